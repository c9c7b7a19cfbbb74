package openwrt

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// shape reduces a JSON value to its structure: object keys with the shapes
// of their values, arrays element by element, and "string"/"number"/
// "bool"/"null" for scalars.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = shape(e)
		}
		return out
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, b)
	}
	return v
}

// TestStandInClaims sends real uhttpd /ubus the requests test/luci's
// stand-in (server_test.go) answers, and checks each claim the stand-in
// makes about the real thing: the exact answers are logged for
// docs/openwrt-testing.md.
func TestStandInClaims(t *testing.T) {
	_, r := openWrt(t)
	w := r.StartUhttpd()
	sid := w.Login(t, "luci", ispPassword)
	req := func(id int, sid, object, method, args string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"call","params":[%q,%q,%q,%s]}`, id, sid, object, method, args)
	}
	post := func(name, body string) any {
		b, err := w.Post(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s\n  → %s\n  ← %s", name, body, clip(b))
		return decode(t, b)
	}

	// Claim 1: uhttpd adds the caller's session id to every call's arguments.
	got := post("session key injected", req(1, sid, "echo", "args", `{"protocol":"ipsec"}`))
	want := map[string]any{"jsonrpc": "2.0", "id": 1.0, "result": []any{0.0, map[string]any{
		"received": map[string]any{"protocol": "ipsec", "ubus_rpc_session": sid}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session key: got %v, want %v", got, want)
	}

	// Claim 2: a call the session's ACL does not grant is a JSON-RPC error
	// -32002 "Access denied", with HTTP 200 and no result.
	denied := map[string]any{"jsonrpc": "2.0", "id": 2.0, "error": map[string]any{"code": -32002.0, "message": "Access denied"}}
	for _, c := range [][3]string{{sid, "vpnpass", "frobnicate"}, {sid, "file", "read"}, {"ffffffffffffffffffffffffffffffff", "vpnpass", "status"}} {
		got := post("denied "+c[1]+"."+c[2], req(2, c[0], c[1], c[2], `{}`))
		if !reflect.DeepEqual(got, denied) {
			t.Errorf("denied %v: got %v, want %v", c, got, denied)
		}
	}

	// Claim 3: a failed login is the ubus status 6 as a result, not an error.
	got = post("failed login", req(3, AnonSession, "session", "login", `{"username":"luci","password":"wrong"}`))
	if want := map[string]any{"jsonrpc": "2.0", "id": 3.0, "result": []any{6.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed login: got %v, want %v", got, want)
	}

	// Claim 4: a batch (what rpc.js sends for calls issued together) is
	// answered by an array, one reply per request in order, each with its
	// own id and its own result or error.
	batch := "[" + req(10, sid, "vpnpass", "status", `{}`) + "," + req(11, sid, "file", "read", `{}`) + "," +
		req(12, sid, "echo", "args", `{"limit":5}`) + "]"
	gotBatch, _ := post("batch", batch).([]any)
	wantShape := []any{
		map[string]any{"jsonrpc": "string", "id": "number", "result": []any{"number", "object"}},
		map[string]any{"jsonrpc": "string", "id": "number", "error": map[string]any{"code": "number", "message": "string"}},
		map[string]any{"jsonrpc": "string", "id": "number", "result": []any{"number", "object"}},
	}
	if len(gotBatch) != 3 {
		t.Fatalf("batch of 3 answered %v", gotBatch)
	}
	for i, g := range gotBatch {
		m, _ := g.(map[string]any)
		if m["id"] != float64(10+i) {
			t.Errorf("batch reply %d has id %v, want %d", i, m["id"], 10+i)
		}
		if s := objectsAsWord(shape(g)); !reflect.DeepEqual(s, wantShape[i]) {
			t.Errorf("batch reply %d shape %v, want %v", i, s, wantShape[i])
		}
	}
}

// objectsAsWord replaces the shape of a result's data object by "object":
// the claims are about the envelope, not about what vpnpass answers.
func objectsAsWord(s any) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s
	}
	if res, ok := m["result"].([]any); ok && len(res) == 2 {
		m["result"] = []any{res[0], "object"}
	}
	return m
}

// clip shortens a logged answer: status objects run to kilobytes.
func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
