package api

import (
	"bytes"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/errx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
)

// MaxLine is the longest request line the server reads (without its newline).
const MaxLine = 64 << 10

// MaxDepth bounds the nesting of objects and arrays in a request: no
// method's params go past 4, and encoding/json's own limit (10,000) would
// let a 64 KiB line cost a deep recursion in every decode of it.
const MaxDepth = 32

// depth is the deepest nesting of objects and arrays in a JSON text, found
// without decoding it (brackets inside strings do not count).
func depth(b []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped, inString = c == '\\', c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// Request is one request line. ID is any JSON value, echoed verbatim; nil
// when the request has none.
type Request struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	// Caller says who asked (envelope, not a parameter); nil: a local
	// client that does not say (CallerFrom: cli).
	Caller *Caller `json:"caller,omitempty"`
}

// Response is one response line: exactly one of Result and Error is set.
type Response struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// DecodeRequest parses one request line. On error the returned Request still
// carries the id when the line was a JSON object, so the error can echo it.
func DecodeRequest(line []byte) (req Request, e *Error) {
	e = decodeRequest(line, &req)
	return req, e
}

// decodeRequest is DecodeRequest filling req in place: each error exit
// returns one pointer instead of copying the whole Request.
func decodeRequest(line []byte, req *Request) *Error {
	if depth(line) > MaxDepth {
		return Errorf(CodeBadRequest, "request nested deeper than %d levels", MaxDepth)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		if se, ok := errx.As[*json.SyntaxError](err); ok {
			return Errorf(CodeBadRequest, "not JSON: %v", se)
		}
		return Errorf(CodeBadRequest, "a request is a JSON object: {\"id\": 1, \"method\": \"status\"}")
	}
	if m == nil {
		return Errorf(CodeBadRequest, "a request is a JSON object, not null")
	}
	req.ID = m["id"]
	var unknown []string
	for k := range m {
		if k != "id" && k != "method" && k != "params" && k != "caller" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.StringSlice(unknown).Sort()
		return Errorf(CodeBadRequest, "unknown request field %q (fields: id, method, params, caller)", unknown[0])
	}
	raw, ok := m["method"]
	if !ok {
		return Errorf(CodeBadRequest, "the request has no method")
	}
	if err := json.Unmarshal(raw, &req.Method); err != nil || req.Method == "" {
		return Errorf(CodeBadRequest, "method must be a non-empty string")
	}
	if raw, ok := m["caller"]; ok {
		var e *Error
		if req.Caller, e = decodeCaller(raw); e != nil {
			return e
		}
	}
	if p, ok := m["params"]; ok && string(p) != "null" {
		if p = bytes.TrimSpace(p); len(p) == 0 || p[0] != '{' {
			return BadParams("params must be an object")
		}
		req.Params = p
	}
	return nil
}

// DecodeParams decodes a request's params into v (a pointer to a struct with
// json tags). Absent or null params leave v as it is. Unknown fields and
// values of the wrong type are bad_params errors naming the field.
func DecodeParams(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return paramsError(err)
	}
	if dec.More() {
		return BadParams("params must be one JSON object")
	}
	return nil
}

func paramsError(err error) error {
	if te, ok := errx.As[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return BadParams("params must be an object")
		}
		return BadParams("%s must be %s, not %s", te.Field, kindName(te.Type), te.Value)
	}
	if se, ok := errx.As[*json.SyntaxError](err); ok {
		return BadParams("params are not valid JSON: %v", se)
	}
	if _, ok := errx.As[*json.InvalidUnmarshalError](err); ok {
		return Failed("internal error decoding params: %v", err)
	}
	switch {
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadParams("unknown parameter %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return BadParams("bad params: %v", err)
}

// kindName describes a Go type the way a JSON user thinks of it.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return "an integer of " + strconv.Itoa(t.Bits()) + " bits"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return "an integer from 0 to " + strconv.FormatUint(uint64(1)<<t.Bits()-1, 10)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// encodeResponse renders one response line (with its newline). A result that
// cannot be encoded becomes a `failed` error; a nil result is {}.
func encodeResponse(id json.RawMessage, result any, e *Error) []byte {
	type wire struct {
		ID     json.RawMessage `json:"id,omitempty"`
		Result any             `json:"result,omitempty"`
		Error  *Error          `json:"error,omitempty"`
	}
	w := wire{ID: id, Error: e}
	if e == nil {
		w.Result = result
		if result == nil {
			w.Result = struct{}{}
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		b, _ = json.Marshal(wire{ID: id, Error: Failed("cannot encode the result: %v", err)})
	}
	return append(b, '\n')
}

// OneOf checks an enum parameter: nil when value is one of valid, else
// bad_params "<field> must be one of a, b, c".
func OneOf(field, value string, valid ...string) error {
	for _, v := range valid {
		if v == value {
			return nil
		}
	}
	return BadParams("%s must be one of %s", field, strings.Join(valid, ", "))
}
