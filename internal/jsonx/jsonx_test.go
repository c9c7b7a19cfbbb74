package jsonx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type Embedded struct {
	E1 string `json:"e1"`
	E2 int
}

type shadow struct {
	Embedded
	E2 string `json:"E2"`
}

type proto string

type textKey struct{ s string }

func (k textKey) MarshalText() ([]byte, error) { return []byte("k-" + k.s), nil }

// UnmarshalText is what encoding/json calls; jsonx does not (text.go).
func (k *textKey) UnmarshalText(b []byte) error {
	k.s = strings.TrimPrefix(string(b), "k-")
	return nil
}

type sample struct {
	Embedded
	Str     string              `json:"str"`
	Esc     string              `json:"esc"`
	Int     int64               `json:"int"`
	Neg     int8                `json:"neg"`
	Uint    uint16              `json:"uint"`
	F       float64             `json:"f"`
	Small   float64             `json:"small"`
	Big     float64             `json:"big"`
	F32     float32             `json:"f32"`
	Bool    bool                `json:"bool"`
	Ptr     *inner              `json:"ptr"`
	NilPtr  *inner              `json:"nil_ptr"`
	Omit    *inner              `json:"omit,omitempty"`
	OmitS   []int               `json:"omit_s,omitempty"`
	OmitI   int                 `json:"omit_i,omitempty"`
	Slice   []inner             `json:"slice"`
	NilS    []string            `json:"nil_s"`
	Empty   []string            `json:"empty"`
	Arr     [2]int              `json:"arr"`
	Map     map[proto]int       `json:"map"`
	IntMap  map[int]string      `json:"int_map"`
	TextMap map[netip.Addr]bool `json:"text_map"`
	Addr    netip.Addr          `json:"addr"`
	NoAddr  netip.Addr          `json:"no_addr"`
	Prefix  netip.Prefix        `json:"prefix"`
	AP      netip.AddrPort      `json:"ap"`
	TimePtr *time.Time          `json:"time_ptr"`
	Times   map[time.Time]int   `json:"times"`
	Any     any                 `json:"any"`
	Raw     RawMessage          `json:"raw"`
	Bytes   []byte              `json:"bytes"`
	Time    time.Time           `json:"time"`
	Iface   map[string]any      `json:"iface"`
	Skip    string              `json:"-"`
	private int                 //nolint: unused, checks unexported fields stay out
	Untag   string              //
	Nested  map[string][]bool   `json:"nested"`
}

func newSample() sample {
	return sample{
		Embedded: Embedded{E1: "e", E2: 2},
		Str:      "héllo \"w\" \\ / \t\n\r\b\f \x01 <a&b> \u2028\u2029 \xff end",
		Esc:      "日本語",
		Int:      -1 << 62, Neg: -5, Uint: 65535,
		F: 12.5, Small: 1.5e-9, Big: 3e22, F32: 0.1, Bool: true,
		Ptr:     &inner{A: 1},
		Slice:   []inner{{A: 1, B: "x"}, {}},
		Empty:   []string{},
		Arr:     [2]int{3, 4},
		Map:     map[proto]int{"pptp": 1, "l2tp": 2, "ipsec": 3},
		IntMap:  map[int]string{10: "a", 2: "b", -1: "c"},
		TextMap: map[netip.Addr]bool{netip.MustParseAddr("10.0.0.2"): true, netip.MustParseAddr("::1"): false},
		Addr:    netip.MustParseAddr("192.0.2.1"),
		Prefix:  netip.MustParsePrefix("fd00::/8"),
		AP:      netip.MustParseAddrPort("[fe80::1%eth0]:500"),
		TimePtr: ptr(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		Times:   map[time.Time]int{time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", -3600)): 1},
		Any:     []any{1.5, "s", nil, map[string]any{"k": true}},
		Raw:     RawMessage(` { "x" : [1, 2] , "h":"<>" } `),
		Bytes:   []byte{0, 1, 2, 250},
		Time:    time.Date(2026, 12, 5, 23, 0, 0, 123456789, time.FixedZone("x", 3600)),
		Iface:   map[string]any{"n": 1.0, "s": "x", "l": []any{}},
		Skip:    "no", private: 1, Untag: "u",
		Nested: map[string][]bool{"a": {true, false}, "b": nil},
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for name, v := range map[string]any{
		"sample":   newSample(),
		"ptr":      ptr(newSample()),
		"zero":     sample{},
		"shadow":   shadow{Embedded{"a", 1}, "b"},
		"nil":      nil,
		"string":   "x<y",
		"float":    []float64{0, -0.0, 1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64},
		"float32":  []float32{1e-7, 3.4e38, 0.3},
		"rawnil":   RawMessage(nil),
		"emptymap": map[string]int{},
		"anon":     struct{ X, Y int }{1, 2},
		"textmap":  map[textKey]bool{{"b"}: true, {"a"}: false},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", name, err)
		}
		got, err := Marshal(v)
		if err != nil {
			t.Fatalf("%s: jsonx: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		wantI, _ := json.MarshalIndent(v, "> ", "\t")
		gotI, _ := MarshalIndent(v, "> ", "\t")
		if !bytes.Equal(gotI, wantI) {
			t.Errorf("%s indented:\n got %s\nwant %s", name, gotI, wantI)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestMarshalErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), make(chan int), map[float64]int{1: 1}} {
		_, werr := json.Marshal(v)
		_, err := Marshal(v)
		if werr == nil || err == nil || err.Error() != werr.Error() {
			t.Errorf("Marshal(%T): err %v, encoding/json %v", v, err, werr)
		}
	}
}

func TestUnmarshalMatchesEncodingJSON(t *testing.T) {
	in, _ := json.Marshal(newSample())
	var want, got sample
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(in, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Escapes, surrogate pairs, lone surrogates, case-insensitive keys, null.
	in = []byte(`{"STR":"a\u00e9\ud83d\ude00\ud800x\/\"","ptr":null,"nil_ptr":{"a":7},"Untag":null,"map":{"x":-1},"raw":null,"any":{"a":[1,"2",true,null]}}`)
	want, got = sample{Ptr: &inner{}}, sample{Ptr: &inner{}}
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(in, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

type params struct {
	Protocol string `json:"protocol"`
	DryRun   bool   `json:"dry_run"`
	Port     uint16 `json:"dport"`
	Sub      *struct {
		N int8 `json:"n"`
	} `json:"sub"`
}

// The API maps these errors to bad_params texts: the types, fields and
// messages must be encoding/json's.
func TestDecodeErrorsMatchEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"protocol":1}`, `{"dry_run":"yes"}`, `{"dport":70000}`, `{"dport":-1}`, `{"dport":1.5}`,
		`{"sub":{"n":300}}`, `{"sub":[]}`, `{"moda":"allow"}`, `[1]`, `"s"`, `{"id":1,"method":`, `hello`,
		`{"method":"nil"} {"method":"nil"}`, `{"a" 1}`, `{"a":1 "b"}`, `[1 2]`, `{1:2}`, `tru`, `nul`, `-`,
		`01`, `1.`, `1e`, `"\x"`, `"\u12"`, "\"\x01\"", `{"protocol":"x"}`, ``, ` `, `{"dport":null}`,
	} {
		var a, b params
		dec := json.NewDecoder(strings.NewReader(in))
		dec.DisallowUnknownFields()
		werr := dec.Decode(&a)
		wmore := dec.More()
		mine := NewDecoder(strings.NewReader(in))
		mine.DisallowUnknownFields()
		err := mine.Decode(&b)
		if errText(err) != errText(werr) || mine.More() != wmore {
			t.Errorf("Decode(%q): err %q more %v, encoding/json %q more %v", in, errText(err), mine.More(), errText(werr), wmore)
		}
		var wte *json.UnmarshalTypeError
		var te *UnmarshalTypeError
		if errors.As(werr, &wte) != errors.As(err, &te) || wte != nil && (wte.Field != te.Field || wte.Value != te.Value || wte.Type != te.Type) {
			t.Errorf("Decode(%q): type error %+v, encoding/json %+v", in, te, wte)
		}
		var wse *json.SyntaxError
		var se *SyntaxError
		if errors.As(werr, &wse) != errors.As(err, &se) {
			t.Errorf("Decode(%q): syntax error %v, encoding/json %v", in, se, wse)
		}
		if werr == nil && !reflect.DeepEqual(a, b) {
			t.Errorf("Decode(%q) = %+v, encoding/json %+v", in, b, a)
		}
		werr = json.Unmarshal([]byte(in), &a)
		err = Unmarshal([]byte(in), &b)
		if errText(err) != errText(werr) {
			t.Errorf("Unmarshal(%q): err %q, encoding/json %q", in, errText(err), errText(werr))
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestEncoderIndent(t *testing.T) {
	var want, got bytes.Buffer
	we := json.NewEncoder(&want)
	we.SetIndent("", "  ")
	e := NewEncoder(&got)
	e.SetIndent("", "  ")
	for _, v := range []any{newSample(), map[string]any{"a": []int{}, "b": map[string]int{}}, 1} {
		if err := we.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := e.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}

// FuzzRoundTrip decodes random input into an any and a RawMessage map with
// both packages: the same verdict, the same value, the same re-encoding.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\u00e9",null,true]}`, `"\ud800"`, `[]`, `{"a":{"b":{}}}`, `1e400`, `"<&>"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var a, b any
		werr := json.Unmarshal(in, &a)
		err := Unmarshal(in, &b)
		if errText(err) != errText(werr) {
			t.Fatalf("Unmarshal(%q): %v, encoding/json %v", in, err, werr)
		}
		if werr != nil {
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Unmarshal(%q) = %#v, encoding/json %#v", in, b, a)
		}
		wout, _ := json.Marshal(a)
		out, _ := Marshal(b)
		if !bytes.Equal(out, wout) {
			t.Fatalf("Marshal = %s, encoding/json %s", out, wout)
		}
		wraw, _ := json.Marshal(json.RawMessage(in))
		raw, _ := Marshal(RawMessage(in))
		if !bytes.Equal(raw, wraw) {
			t.Fatalf("Marshal(RawMessage %q) = %s, encoding/json %s", in, raw, wraw)
		}
	})
}

// jsonx reads time.Time and the netip types itself, as their UnmarshalJSON
// and UnmarshalText do, and calls no other type's UnmarshalText (text.go).
func TestTextTypes(t *testing.T) {
	var m map[textKey]bool
	if err := Unmarshal([]byte(`{"k-a":true}`), &m); err == nil {
		t.Errorf("map[textKey]: no error, got %v", m)
	}
	for _, in := range []string{
		`{"t":"2026-12-05T23:00:00.5+01:00","a":"10.0.0.1","p":"10.0.0.0/8","ap":"1.2.3.4:5"}`,
		`{"t":null,"a":"","p":"","ap":""}`, `{"t":"2026-12-05T5:00:00,5Z"}`, `{"t":1}`, `{"t":"x"}`,
		`{"t":"2026-12-05T23:00:00\u005a"}`, `{"a":"1.2.3"}`, `{"p":"10.0.0.1/33"}`, `{"ap":"1.2.3.4"}`,
		`{"a":1}`, `{"m":{"10.0.0.1":1,"x":2}}`, `{"tm":{"2026-12-05T23:00:00Z":1,"y":2}}`, `{"tp":null}`,
		`{"tp":"2026-12-05T23:00:00Z"}`,
	} {
		fuzzText(t, []byte(in))
	}
}

type texts struct {
	T  time.Time          `json:"t"`
	TP *time.Time         `json:"tp"`
	A  netip.Addr         `json:"a"`
	P  netip.Prefix       `json:"p"`
	AP netip.AddrPort     `json:"ap"`
	M  map[netip.Addr]int `json:"m"`
	TM map[time.Time]int  `json:"tm"`
}

// fuzzText decodes in into texts with both packages: the same verdict (the
// texts of time's errors differ) and the same value.
func fuzzText(t *testing.T, in []byte) {
	t.Helper()
	start := texts{T: time.Unix(1, 0)}
	a, b := start, start
	werr := json.Unmarshal(in, &a)
	err := Unmarshal(in, &b)
	if (werr == nil) != (err == nil) {
		t.Fatalf("Unmarshal(%s): %v, encoding/json %v", in, err, werr)
	}
	// Time keys with a fixed zone beyond ±14h hold a new *Location each.
	if fmt.Sprint(a.TM) != fmt.Sprint(b.TM) {
		t.Fatalf("Unmarshal(%s): time keys %v, encoding/json %v", in, b.TM, a.TM)
	}
	a.TM, b.TM = nil, nil
	if werr == nil && !reflect.DeepEqual(a, b) {
		t.Fatalf("Unmarshal(%s) = %+v, encoding/json %+v", in, b, a)
	}
}

func FuzzTextTypes(f *testing.F) {
	f.Add("2026-12-05T23:00:00Z", "10.0.0.1", "10.0.0.0/8", "[::1]:1")
	f.Add("2026-12-05T23:00:00,123+24:00", "", "::/0", "")
	f.Fuzz(func(t *testing.T, ts, addr, prefix, ap string) {
		in, _ := json.Marshal(map[string]any{"t": ts, "a": addr, "p": prefix, "ap": ap,
			"m": map[string]int{addr: 1}, "tm": map[string]int{ts: 2}})
		fuzzText(t, in)
	})
}

// FuzzBase64 checks the []byte encoding against encoding/base64.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "QQ==", "QUI=", "QUJD", "QQ=", "Q===", "QUJD\r\nRA==", "QU\nJD", "QQ==x", "QQ==\n",
		"QQ=\n=", "QQ=x", "QR==", "Q", "QUJ", "QUJDRA", "!!!!", "QUJD=", "QQ==QQ=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := base64.StdEncoding.DecodeString(s)
		got, err := decodeBase64(s)
		if errText(err) != errText(werr) || werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("decode %q: %q %v, encoding/base64 %q %v", s, got, err, want, werr)
		}
		if enc := appendBase64(nil, []byte(s)); string(enc) != base64.StdEncoding.EncodeToString([]byte(s)) {
			t.Fatalf("encode %q: %s", s, enc)
		}
	})
}

// Tag reads what StructTag.Get reads for every tag without escapes other
// than \\ and \".
func TestTagMatchesGet(t *testing.T) {
	for _, tag := range []reflect.StructTag{``, `json:"a"`, `json:"a,omitempty"`, `xml:"x" json:"b"`, `json:"-"`,
		`json:",omitempty"`, `xml:"a\"b" json:"c"`, `json:"q\"x\\y"`, "json:\"n\n\"", `json: "a"`, `json:"a`,
		`jso n:"a"`, `  json:"a"  xml:"b"`, `xml:"b"`, `json:"é"`, `a:"1" json:"2" json:"3"`} {
		if got, want := Tag(tag), tag.Get("json"); got != want {
			t.Errorf("Tag(%q) = %q, Get %q", tag, got, want)
		}
	}
}

// TestArraysLikeEncodingJSON: short, long and failing arrays leave Go
// arrays, slices and interfaces as encoding/json leaves them.
func TestArraysLikeEncodingJSON(t *testing.T) {
	for _, in := range []string{`[]`, `[1]`, `[1,2]`, `[1,2,3]`, `[1,"x",3]`, `["x"]`, `[[1],[2,3]]`, ` [ 1 , 2 ] `} {
		type set struct {
			A [2]int
			S []int
			I any
			N [][]int
		}
		var got, want set
		failed := false
		got.A, want.A = [2]int{7, 8}, [2]int{7, 8}
		got.S, want.S = []int{9}, []int{9}
		for _, p := range [][2]any{{&got.A, &want.A}, {&got.S, &want.S}, {&got.I, &want.I}, {&got.N, &want.N}} {
			errGot, errWant := Unmarshal([]byte(in), p[0]), json.Unmarshal([]byte(in), p[1])
			if (errGot == nil) != (errWant == nil) {
				t.Errorf("%s into %T: error %v, encoding/json %v", in, p[0], errGot, errWant)
			}
			if errGot != nil {
				failed = true
			}
		}
		// jsonx stops at the first type error where encoding/json goes on.
		if !failed && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, encoding/json %+v", in, got, want)
		}
	}
}
