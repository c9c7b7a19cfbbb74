package jsonx

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Unmarshaler is a type that decodes itself from JSON (what encoding/json's
// Unmarshaler does with UnmarshalJSON). DecodeJSON has its own name so that
// no interface call keeps the standard library's UnmarshalJSON methods
// linked: see text.go. Types that both packages decode (RawMessage,
// diagnose.Finding) have both methods, DecodeJSON calling UnmarshalJSON.
type Unmarshaler interface {
	DecodeJSON([]byte) error
}

// UnmarshalTypeError is a JSON value of the wrong kind for its Go target.
// Field is the dotted path of JSON names from the top value ("" at the top).
type UnmarshalTypeError struct {
	_      [0]func()    // not comparable: no generated equality function (issue 16)
	Value  string       // "string", "number", "number 70000", "bool", "array", "object"
	Type   reflect.Type // the Go type it could not go into
	Offset int64
	Struct string
	Field  string
}

func (e *UnmarshalTypeError) Error() string {
	if e.Struct != "" || e.Field != "" {
		return "json: cannot unmarshal " + e.Value + " into Go struct field " + e.Struct + "." + e.Field + " of type " + e.Type.String()
	}
	return "json: cannot unmarshal " + e.Value + " into Go value of type " + e.Type.String()
}

// InvalidUnmarshalError is a target that is not a non-nil pointer.
type InvalidUnmarshalError struct{ Type reflect.Type }

func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "json: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "json: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "json: Unmarshal(nil " + e.Type.String() + ")"
}

var unmarshalerType = reflect.TypeOf((*Unmarshaler)(nil)).Elem()

// Unmarshal decodes the one JSON value in data into v (a non-nil pointer).
// Syntax errors win over type errors, as in encoding/json.
func Unmarshal(data []byte, v any) error {
	if err := checkValid(data); err != nil {
		return err
	}
	d := decoder{scanner: scanner{data: data}}
	return d.top(v)
}

type decoder struct {
	scanner
	strict bool     // unknown object members are errors
	path   []string // JSON names from the top, for UnmarshalTypeError.Field
	strct  string   // the Go struct holding the current field
}

func (d *decoder) top(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	d.ws()
	return d.value(rv)
}

func (d *decoder) typeError(what string, t reflect.Type, at int) error {
	return &UnmarshalTypeError{Value: what, Type: t, Offset: int64(at), Struct: d.strct, Field: strings.Join(d.path, ".")}
}

// value decodes the value at d.pos (valid JSON, space skipped) into v.
func (d *decoder) value(v reflect.Value) error {
	start := d.pos
	isNull := d.data[d.pos] == 'n'
	// Through pointers, allocating, to an Unmarshaler or the final value.
	for {
		if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
			if pv := v.Addr(); pv.Type().Implements(unmarshalerType) {
				v = pv
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		if isNull && v.CanSet() {
			if err := d.skipValue(); err != nil {
				return err
			}
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if v.Type().Implements(unmarshalerType) {
			if err := d.skipValue(); err != nil {
				return err
			}
			return v.Interface().(Unmarshaler).DecodeJSON(d.data[start:d.pos])
		}
		v = v.Elem()
	}
	if v.Type() == timeType {
		return d.decodeTime(v)
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object(v)
	case '[':
		return d.array(v)
	case '"':
		return d.str(v)
	case 'n':
		d.pos += 4
		switch v.Kind() {
		case reflect.Interface, reflect.Map, reflect.Slice:
			v.Set(reflect.Zero(v.Type()))
		}
		return nil
	case 't', 'f':
		d.pos += 4
		if c == 'f' {
			d.pos++
		}
		switch {
		case v.Kind() == reflect.Bool:
			v.SetBool(c == 't')
		case v.Kind() == reflect.Interface && v.NumMethod() == 0:
			v.Set(reflect.ValueOf(c == 't'))
		default:
			return d.typeError("bool", v.Type(), start)
		}
		return nil
	}
	return d.number(v)
}

func (d *decoder) number(v reflect.Value) error {
	start := d.pos
	_ = d.skipNumber()
	lit := string(d.data[start:d.pos])
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() == 0 {
			f, ok := parseFloat(lit, 64)
			if !ok {
				return d.typeError("number "+lit, reflect.TypeOf(f), start)
			}
			v.Set(reflect.ValueOf(f))
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return d.typeError("number "+lit, v.Type(), start)
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return d.typeError("number "+lit, v.Type(), start)
		}
		v.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := parseFloat(lit, v.Type().Bits())
		if !ok { // a float32 result is in float32's range
			return d.typeError("number "+lit, v.Type(), start)
		}
		v.SetFloat(f)
		return nil
	}
	return d.typeError("number", v.Type(), start)
}

func (d *decoder) str(v reflect.Value) error {
	start := d.pos
	s := d.readString()
	if isText(v.Type()) {
		return setText(v, s)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return nil
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(s))
			return nil
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := decodeBase64(s)
			if err != nil {
				return err
			}
			v.SetBytes(b)
			return nil
		}
	}
	return d.typeError("string", v.Type(), start)
}

// readString returns the string at d.pos (valid JSON), unescaped; invalid
// UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (d *decoder) readString() string {
	start := d.pos
	escaped, _ := d.skipString()
	raw := d.data[start+1 : d.pos-1]
	if !escaped {
		return validUTF8(raw)
	}
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		c = raw[i]
		if k := strings.IndexByte("bfnrt", c); k >= 0 {
			c = "\b\f\n\r\t"[k]
		}
		if c != 'u' { // also " \ /
			b = append(b, c)
			continue
		}
		r := hex4(raw[i+1 : i+5])
		i += 4
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				r2 = hex4(raw[i+3 : i+7])
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				r = dec
				i += 6
			} else {
				r = utf8.RuneError
			}
		}
		b = utf8.AppendRune(b, r)
	}
	return validUTF8(b)
}

// validUTF8 replaces each byte of an invalid sequence with U+FFFD (one per
// byte, as encoding/json does; strings.ToValidUTF8 merges runs).
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

var anySliceType = reflect.TypeOf([]any(nil))

// array decodes the array at d.pos into a slice, an array or an empty
// interface (as []any). One loop for the three (closures per kind cost more).
func (d *decoder) array(v reflect.Value) error {
	start := d.pos
	t := v.Type()
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return d.typeError("array", t, start)
		}
		t = anySliceType
	case reflect.Slice, reflect.Array:
	default:
		return d.typeError("array", t, start)
	}
	s := v
	if v.Kind() != reflect.Array {
		s = reflect.MakeSlice(t, 0, 0)
	}
	n, err := 0, error(nil)
	d.pos++
	d.ws()
	if d.data[d.pos] == ']' {
		d.pos++
	} else {
		for c := byte(','); c != ']' && err == nil; n++ {
			var slot reflect.Value
			switch {
			case s.Kind() == reflect.Slice:
				s = reflect.Append(s, reflect.Zero(t.Elem()))
				slot = s.Index(n)
			case n < s.Len():
				slot = s.Index(n)
			default: // past the end of an array: decoded, dropped
				slot = reflect.New(t.Elem()).Elem()
			}
			d.ws()
			if err = d.value(slot); err == nil {
				d.ws()
				c = d.data[d.pos]
				d.pos++
			}
		}
	}
	if v.Kind() == reflect.Array {
		for ; n < v.Len(); n++ {
			v.Index(n).Set(reflect.Zero(t.Elem()))
		}
	} else if err == nil {
		v.Set(s)
	}
	return err
}
