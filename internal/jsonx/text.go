package jsonx

import (
	"errors"
	"net/netip"
	"reflect"
	"time"

	"github.com/vpnpass/vpnpass/internal/tstamp"
)

// The standard types in vpnpass's JSON that encoding/json decodes with their
// UnmarshalJSON or UnmarshalText methods. jsonx decodes them here with the
// parse functions those methods call, and calls no UnmarshalText and no
// UnmarshalJSON through an interface: such a call keeps that method of every
// type the binary can hold in an interface, and time.Time's pair links the
// time package's whole layout parser (~45 KB of mips content with netip's
// and net's). A type of ours decodes itself through Unmarshaler.
var (
	timeType     = reflect.TypeFor[time.Time]()
	addrType     = reflect.TypeFor[netip.Addr]()
	addrPortType = reflect.TypeFor[netip.AddrPort]()
	prefixType   = reflect.TypeFor[netip.Prefix]()
)

// isText reports whether t is one of the standard types jsonx reads from a
// JSON string (or, as a map key, from the key).
func isText(t reflect.Type) bool {
	return t == timeType || t == addrType || t == addrPortType || t == prefixType
}

// setText stores text parsed into v (settable, isText), as the type's
// UnmarshalText would: the zero value for empty netip text, the zero value
// and the parse error on failure.
func setText(v reflect.Value, text string) error {
	var x any
	var err error
	switch v.Type() {
	case timeType:
		x, err = tstamp.ParseRFC3339(text)
	case addrType:
		a := netip.Addr{}
		if text != "" {
			a, err = netip.ParseAddr(text)
		}
		x = a
	case addrPortType:
		a := netip.AddrPort{}
		if text != "" {
			a, err = netip.ParseAddrPort(text)
		}
		x = a
	default:
		p := netip.Prefix{}
		if text != "" {
			p, err = netip.ParsePrefix(text)
		}
		x = p
	}
	if err != nil {
		v.Set(reflect.Zero(v.Type()))
		return err
	}
	v.Set(reflect.ValueOf(x))
	return nil
}

// decodeTime is time.Time's UnmarshalJSON: null leaves v alone, a string's
// raw bytes (not unescaped) are RFC 3339, anything else is an error.
func (d *decoder) decodeTime(v reflect.Value) error {
	start := d.pos
	if err := d.skipValue(); err != nil {
		return err
	}
	raw := d.data[start:d.pos]
	if string(raw) == "null" {
		return nil
	}
	if raw[0] != '"' {
		return errors.New("Time.UnmarshalJSON: input is not a JSON string")
	}
	return setText(v, string(raw[1:len(raw)-1]))
}
