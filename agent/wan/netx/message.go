package netx

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// DNS wire format (RFC 1035 4.1), just enough for one A question.
const (
	headerLen  = 12
	typeA      = 1
	classIN    = 1
	flagQR     = 0x8000
	flagTC     = 0x0200
	flagRD     = 0x0100
	rcodeMask  = 0x000f
	rcodeNX    = 3
	maxNameLen = 255
)

var errNotOurs = errors.New("not an answer to our query")

// newQuery encodes a recursive query for the A records of name.
func newQuery(name string) (msg []byte, id uint16, err error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > maxNameLen-2 {
		return nil, 0, errors.New("bad host name " + strconv.Quote(name))
	}
	id = newID()
	msg = binary.BigEndian.AppendUint16(make([]byte, 0, headerLen+len(name)+6), id)
	msg = append(msg, flagRD>>8, 0, 0, 1, 0, 0, 0, 0, 0, 0) // flags, 1 question
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return nil, 0, errors.New("bad host name " + strconv.Quote(name))
		}
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	msg = append(msg, 0, 0, typeA, 0, classIN)
	return msg, id, nil
}

// parseAnswer checks that resp answers query (same ID, same question) and
// returns its first A record. A CNAME chain arrives with the A records of
// its target in the same answer section, so any A record there counts.
func parseAnswer(resp, query []byte, id uint16) (none netip.Addr, _ error) {
	q := query[headerLen:]
	if len(resp) < headerLen+len(q) || binary.BigEndian.Uint16(resp) != id ||
		binary.BigEndian.Uint16(resp[4:]) != 1 || !strings.EqualFold(string(resp[headerLen:headerLen+len(q)]), string(q)) {
		return none, errNotOurs
	}
	flags := binary.BigEndian.Uint16(resp[2:])
	if flags&flagQR == 0 {
		return none, errNotOurs
	}
	switch rc := flags & rcodeMask; rc {
	case 0:
	case rcodeNX:
		return none, ErrNotFound
	default:
		return none, errors.New("server answered with error code " + strconv.Itoa(int(rc)))
	}
	n := int(binary.BigEndian.Uint16(resp[6:]))
	off := headerLen + len(q)
	for i := 0; i < n; i++ {
		var ok bool
		if off, ok = skipName(resp, off); !ok || off+10 > len(resp) {
			break
		}
		typ, class := binary.BigEndian.Uint16(resp[off:]), binary.BigEndian.Uint16(resp[off+2:])
		rdlen := int(binary.BigEndian.Uint16(resp[off+8:]))
		off += 10
		if off+rdlen > len(resp) {
			break
		}
		if typ == typeA && class == classIN && rdlen == 4 {
			return netip.AddrFrom4([4]byte(resp[off : off+4])), nil
		}
		off += rdlen
	}
	if flags&flagTC != 0 {
		return none, errors.New("answer truncated")
	}
	return none, ErrNotFound
}

// skipName steps over a domain name: labels up to a zero byte, or up to a
// compression pointer (two bytes).
func skipName(msg []byte, off int) (int, bool) {
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xc0 == 0xc0:
			return off + 2, off+2 <= len(msg)
		case l&0xc0 != 0:
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}
