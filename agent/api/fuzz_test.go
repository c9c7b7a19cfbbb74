package api

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"testing"

	json "github.com/vpnpass/vpnpass/internal/jsonx"
)

// FuzzDecodeRequest checks that DecodeRequest never panics, that every
// outcome is a well-formed response line, and that an accepted request
// survives a re-encode unchanged.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"id":7,"method":"status","params":{}}`,
		`{"id":"x","method":"set","params":{"protocol":"pptp","mode":"allow","dry_run":true}}`,
		`{"method":"history","params":{"since":"2024-01-01T00:00:00Z","kind":"vpn.","limit":50}}`,
		`{"id":null,"method":"nat","params":null}`,
		`{"id":[1,{"a":2}],"method":"doctor"}`,
		`{"id":2,"method":"set","caller":{"origin":"rpcd","user":"isp"}}`, `{"method":"set","caller":{"origin":"x"}}`,
		`[1]`, `null`, `{`, `{"method":5}`, `{"id":1,"params":[]}`, `{"x":1}`, "\"\\ud800\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, e := DecodeRequest(line)
		if e != nil {
			if e.Code != CodeBadRequest && e.Code != CodeBadParams {
				t.Fatalf("unexpected code %q", e.Code)
			}
			out := encodeResponse(req.ID, nil, e)
			if !stdjson.Valid(bytes.TrimSuffix(out, []byte("\n"))) || bytes.Count(out, []byte("\n")) != 1 {
				t.Fatalf("bad error line %q", out)
			}
			return
		}
		if req.Method == "" {
			t.Fatal("accepted a request without method")
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, e2 := DecodeRequest(enc)
		if e2 != nil || again.Method != req.Method || !sameJSON(again.ID, req.ID) || !sameJSON(again.Params, req.Params) {
			t.Fatalf("round trip: %q -> %q (%v)", line, enc, e2)
		}
		out := encodeResponse(req.ID, map[string]any{"ok": true}, nil)
		if !stdjson.Valid(bytes.TrimSuffix(out, []byte("\n"))) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("bad response line %q", out)
		}
	})
}

// sameJSON compares JSON values, not their spelling: json.Marshal of a
// RawMessage escapes <, > and & as \u003c..., which is the same string.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return stdjson.Unmarshal(a, &x) == nil && stdjson.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
