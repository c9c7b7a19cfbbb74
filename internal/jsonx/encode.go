// Package jsonx is the subset of encoding/json vpnpass uses, with the same
// names and the same bytes on the wire: Marshal, Unmarshal, Encoder (with
// SetIndent), Decoder (DisallowUnknownFields, More), RawMessage, Marshaler,
// Unmarshaler and the error types the API maps to bad_params.
//
// Why: encoding/json costs ~230 KB of a stripped mips binary (its encoder
// and decoder caches, the table-driven scanner, Number, Token streaming,
// HTML-safe Indent and more we never call). jsonx is one recursive walk over
// reflect values in each direction; the tests cross-check its output and
// errors against encoding/json, and FuzzRoundTrip compares both on random
// input. It follows encoding/json's rules for struct tags (name, omitempty,
// "-"), embedded structs, map key order, HTML escaping, float formatting and
// []byte as base64; it leaves out ",string", Number and Token.
package jsonx

import (
	"encoding"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vpnpass/vpnpass/internal/sortx"
)

// Marshaler is a type that renders itself as JSON.
type Marshaler interface {
	MarshalJSON() ([]byte, error)
}

// RawMessage is a raw encoded JSON value, copied through verbatim (compacted).
type RawMessage []byte

// MarshalJSON returns m, or null when m is nil.
func (m RawMessage) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return m, nil
}

// UnmarshalJSON keeps a copy of data.
func (m *RawMessage) UnmarshalJSON(data []byte) error {
	if m == nil {
		return errorf("jsonx.RawMessage: UnmarshalJSON on nil pointer")
	}
	*m = append((*m)[0:0], data...)
	return nil
}

// DecodeJSON is UnmarshalJSON under jsonx's name (see Unmarshaler).
func (m *RawMessage) DecodeJSON(data []byte) error { return m.UnmarshalJSON(data) }

// UnsupportedValueError is a value JSON cannot carry (NaN, an infinity).
type UnsupportedValueError struct{ Str string }

func (e *UnsupportedValueError) Error() string { return "json: unsupported value: " + e.Str }

// UnsupportedTypeError is a Go type JSON cannot carry (chan, func, complex).
type UnsupportedTypeError struct{ Type reflect.Type }

func (e *UnsupportedTypeError) Error() string { return "json: unsupported type: " + e.Type.String() }

// MarshalerError wraps an error a MarshalJSON or MarshalText method returned.
type MarshalerError struct {
	_    [0]func() // not comparable: no generated equality function (issue 16)
	Type reflect.Type
	Err  error
}

func (e *MarshalerError) Error() string {
	return "json: error calling MarshalJSON for type " + e.Type.String() + ": " + e.Err.Error()
}

func (e *MarshalerError) Unwrap() error { return e.Err }

var (
	marshalerType     = reflect.TypeOf((*Marshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// Marshal returns the JSON encoding of v, byte for byte what encoding/json
// returns for the types jsonx supports.
func Marshal(v any) ([]byte, error) {
	return appendValue(nil, reflect.ValueOf(v))
}

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return add(b, "null"), nil
	}
	t := v.Type()
	if t.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType) {
		v, t = v.Addr(), v.Addr().Type()
	}
	if t.Implements(marshalerType) {
		return appendMarshaler(b, v)
	}
	if t.Kind() != reflect.Pointer && t.Implements(textMarshalerType) {
		txt, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return b, &MarshalerError{Type: t, Err: err}
		}
		return appendString(b, string(txt)), nil
	}
	switch v.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return appendFloat(b, v.Float(), t.Bits())
	case reflect.String:
		return appendString(b, v.String()), nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return add(b, "null"), nil
		}
		return appendValue(b, v.Elem())
	case reflect.Struct:
		return appendStruct(b, v)
	case reflect.Map:
		return appendMap(b, v)
	case reflect.Slice:
		if v.IsNil() {
			return add(b, "null"), nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(marshalerType) {
			b = add(b, `"`)
			b = appendBase64(b, v.Bytes())
			return add(b, `"`), nil
		}
		return appendArray(b, v)
	case reflect.Array:
		return appendArray(b, v)
	}
	return b, &UnsupportedTypeError{t}
}

func appendMarshaler(b []byte, v reflect.Value) ([]byte, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return add(b, "null"), nil
	}
	out, err := v.Interface().(Marshaler).MarshalJSON()
	if err != nil {
		return b, &MarshalerError{Type: v.Type(), Err: err}
	}
	if err := checkValid(out); err != nil {
		return b, &MarshalerError{Type: v.Type(), Err: err}
	}
	return compact(b, out), nil
}

func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, &UnsupportedValueError{strconv.FormatFloat(f, 'g', -1, bits)}
	}
	// encoding/json's choice: %f for ordinary magnitudes, %e (with a
	// one-digit negative exponent where possible) for very small or large.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hex = "0123456789abcdef"

// appendString quotes s as encoding/json does: HTML-safe (<, >, & as \u00XX),
// U+2028/2029 escaped, invalid UTF-8 as U+FFFD. Every escape goes through
// one 6-byte buffer and one append (an append per escape kind was 3 KB of
// mips code).
func appendString(b []byte, s string) []byte {
	b = add(b, `"`)
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			i++
			continue
		}
		e := [6]byte{'\\', 'u', '0', '0'}
		n, size := 6, 1
		if c < utf8.RuneSelf {
			if k := strings.IndexByte("\"\\\b\f\n\r\t", c); k >= 0 {
				e[1], n = "\"\\bfnrt"[k], 2
			} else {
				e[4], e[5] = hex[c>>4], hex[c&0xf]
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				e = [6]byte{'\\', 'u', 'f', 'f', 'f', 'd'}
			case r == '\u2028' || r == '\u2029':
				e[2], e[3], e[4], e[5] = '2', '0', '2', hex[r&0xf]
			default:
				i += size
				continue
			}
		}
		b = add(b, s[start:i])
		b = append(b, e[:n]...)
		i += size
		start = i
	}
	b = add(b, s[start:])
	return add(b, `"`)
}

func appendArray(b []byte, v reflect.Value) ([]byte, error) {
	b = add(b, "[")
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			b = add(b, ",")
		}
		var err error
		if b, err = appendValue(b, v.Index(i)); err != nil {
			return b, err
		}
	}
	return add(b, "]"), nil
}

func appendStruct(b []byte, v reflect.Value) ([]byte, error) {
	b = add(b, "{")
	first := true
	for _, f := range fieldsOf(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			b = add(b, ",")
		}
		first = false
		b = appendString(b, f.name)
		b = add(b, ":")
		var err error
		if b, err = appendValue(b, fv); err != nil {
			return b, err
		}
	}
	return add(b, "}"), nil
}

// fieldByIndex follows embedded pointers; ok is false through a nil one.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type kv struct {
	_   [0]func() // not comparable: no generated equality function (issue 16)
	key string
	val reflect.Value
}

func appendMap(b []byte, v reflect.Value) ([]byte, error) {
	switch kt := v.Type().Key(); kt.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !kt.Implements(textMarshalerType) {
			return b, &UnsupportedTypeError{v.Type()}
		}
	}
	if v.IsNil() {
		return add(b, "null"), nil
	}
	kvs := make([]kv, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, err := mapKey(it.Key())
		if err != nil {
			return b, err
		}
		kvs = append(kvs, kv{key: k, val: it.Value()})
	}
	sortx.Sort(len(kvs), func(i, j int) bool { return kvs[i].key < kvs[j].key }, func(i, j int) { kvs[i], kvs[j] = kvs[j], kvs[i] })
	b = add(b, "{")
	for i, e := range kvs {
		if i > 0 {
			b = add(b, ",")
		}
		b = appendString(b, e.key)
		b = add(b, ":")
		var err error
		if b, err = appendValue(b, e.val); err != nil {
			return b, err
		}
	}
	return add(b, "}"), nil
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		txt, err := tm.MarshalText()
		if err != nil {
			return "", &MarshalerError{Type: k.Type(), Err: err}
		}
		return string(txt), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &UnsupportedTypeError{k.Type()}
}

// add appends s to b: a call is ~30 B of mips code, an inline append
// ~150 B (docs/design.md#size).
func add(b []byte, s string) []byte { return append(b, s...) }
