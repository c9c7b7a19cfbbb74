package jsonx

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// object decodes the object at d.pos into a struct, a map or an interface.
func (d *decoder) object(v reflect.Value) error {
	start := d.pos
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return d.typeError("object", v.Type(), start)
		}
		m := map[string]any{} // as a map[string]any target (no closures of its own)
		mv := reflect.ValueOf(&m).Elem()
		if err := d.mapObject(mv, start); err != nil {
			return err
		}
		v.Set(mv)
		return nil
	case reflect.Map:
		return d.mapObject(v, start)
	case reflect.Struct:
		return d.structObject(v)
	}
	return d.typeError("object", v.Type(), start)
}

func (d *decoder) mapObject(v reflect.Value, start int) error {
	t := v.Type()
	kt := t.Key()
	switch kt.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !isText(kt) {
			return d.typeError("object", t, start)
		}
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	return d.members(v, nil, "")
}

// mapMember decodes a member's value into a new element of the map v and
// stores it under the converted key.
func (d *decoder) mapMember(v reflect.Value, key string) error {
	t := v.Type()
	val := reflect.New(t.Elem()).Elem()
	if err := d.value(val); err != nil {
		return err
	}
	k, ok, err := d.mapKey(t.Key(), key)
	if ok {
		v.SetMapIndex(k, val)
	}
	return err
}

// mapKey converts an object key to a map key of type kt: ok is false for a
// number that does not fit (skipped), err a text key's parse error (which
// ends decoding, as in encoding/json).
func (d *decoder) mapKey(kt reflect.Type, key string) (k reflect.Value, ok bool, err error) {
	k = reflect.New(kt).Elem()
	if isText(kt) {
		err = setText(k, key)
		return k, err == nil, err
	}
	switch kt.Kind() {
	case reflect.String:
		k.SetString(key)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || k.OverflowInt(n) {
			return k, false, nil
		}
		k.SetInt(n)
	default:
		n, err := strconv.ParseUint(key, 10, 64)
		if err != nil || k.OverflowUint(n) {
			return k, false, nil
		}
		k.SetUint(n)
	}
	return k, true, nil
}

func (d *decoder) structObject(v reflect.Value) error {
	return d.members(v, fieldsOf(v.Type()), v.Type().Name())
}

// structMember decodes a member's value into the struct v's field named key
// (skipped, or an error when strict, if v has none).
func (d *decoder) structMember(v reflect.Value, fields []field, strct, key string) error {
	f := lookup(fields, key)
	if f == nil {
		if d.strict {
			return errors.New("json: unknown field " + strconv.Quote(key))
		}
		return d.skipValue()
	}
	fv := v
	for i, x := range f.index {
		if i > 0 && fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				fv.Set(reflect.New(fv.Type().Elem()))
			}
			fv = fv.Elem()
		}
		fv = fv.Field(x)
	}
	d.path = append(d.path, f.name)
	d.strct = strct
	if err := d.value(fv); err != nil {
		return err
	}
	if len(d.path) > 0 {
		d.path = d.path[:len(d.path)-1]
	}
	return nil
}

// lookup finds a field by exact name, else case-insensitively (as
// encoding/json matches keys).
func lookup(fields []field, key string) *field {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}

// members walks the object at d.pos into v: a map's elements, or a struct's
// fields (fields, strct: its field table and name). One loop, no closures.
func (d *decoder) members(v reflect.Value, fields []field, strct string) error {
	isMap := v.Kind() == reflect.Map
	d.pos++
	d.ws()
	if d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		d.ws()
		key := d.readString()
		d.ws()
		d.pos++ // ':'
		d.ws()
		var err error
		if isMap {
			err = d.mapMember(v, key)
		} else {
			err = d.structMember(v, fields, strct, key)
		}
		if err != nil {
			return err
		}
		d.ws()
		c := d.data[d.pos]
		d.pos++
		if c == '}' {
			return nil
		}
	}
}

// Decoder reads JSON values one after another from a stream.
type Decoder struct {
	r      io.Reader
	buf    []byte
	read   bool
	pos    int
	strict bool
}

// NewDecoder decodes from r (read to its end at the first Decode: vpnpass
// decodes requests and replies of bounded size).
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r} }

// DisallowUnknownFields makes object members without a struct field errors.
func (dec *Decoder) DisallowUnknownFields() { dec.strict = true }

func (dec *Decoder) fill() error {
	if dec.read {
		return nil
	}
	dec.read = true
	b, err := io.ReadAll(dec.r)
	dec.buf = b
	return err
}

// Decode decodes the next value into v; io.EOF when only space is left.
func (dec *Decoder) Decode(v any) error {
	if err := dec.fill(); err != nil {
		return err
	}
	s := scanner{data: dec.buf, pos: dec.pos}
	s.ws()
	if s.pos >= len(s.data) {
		return io.EOF
	}
	begin := s.pos
	if err := s.skipValue(); err != nil {
		// A stream decoder cannot tell a cut value from one still coming.
		if se, ok := err.(*SyntaxError); ok && se.eof {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	dec.pos = s.pos
	d := decoder{scanner: scanner{data: dec.buf[:s.pos], pos: begin}, strict: dec.strict}
	return d.top(v)
}

// More reports whether another array element or object member follows.
func (dec *Decoder) More() bool {
	if dec.fill() != nil {
		return false
	}
	s := scanner{data: dec.buf, pos: dec.pos}
	s.ws()
	return s.pos < len(s.data) && s.data[s.pos] != ']' && s.data[s.pos] != '}'
}

// Encoder writes JSON values, each followed by a newline.
type Encoder struct {
	_              [0]func() // not comparable: no generated equality function (issue 16)
	w              io.Writer
	prefix, indent string
}

// NewEncoder writes to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// SetIndent lays out each value like MarshalIndent(v, prefix, indent).
func (e *Encoder) SetIndent(prefix, indent string) { e.prefix, e.indent = prefix, indent }

// Encode writes v and a newline.
func (e *Encoder) Encode(v any) error {
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	if e.prefix != "" || e.indent != "" {
		b = indent(make([]byte, 0, len(b)*2), b, e.prefix, e.indent)
	}
	_, err = e.w.Write(append(b, '\n'))
	return err
}

// MarshalIndent is Marshal laid out with one member or element per line.
func MarshalIndent(v any, prefix, ind string) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	return indent(make([]byte, 0, len(b)*2), b, prefix, ind), nil
}

// Valid reports whether data is one valid JSON value.
func Valid(data []byte) bool { return checkValid(data) == nil }
