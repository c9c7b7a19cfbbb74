package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzSplitSession: whatever rpcd (or a caller through uhttpd's /ubus)
// writes on the plugin's stdin is refused or becomes one JSON object
// without the session key, which is all the daemon is sent.
func FuzzSplitSession(f *testing.F) {
	for _, s := range []string{
		`{"protocol":"ipsec","mode":"allow","ubus_rpc_session":"` + testSID + `"}`,
		`{"ubus_rpc_session":7}`, `{"ubus_rpc_session":"x;reboot"}`, `{"protocol":"ipsec"}`,
		" \n", `[1]`, `null`, `{"a":`, `{"a":1}{"b":2}`, `{"a":[[[[[[[[[[1]]]]]]]]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := splitSession(b)
		if err != nil {
			return
		}
		p := bytes.TrimSpace(in.params)
		if !json.Valid(p) || len(p) == 0 || p[0] != '{' {
			t.Fatalf("%q: params %q are not one object", b, in.params)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("%q: params %q: %v", b, p, err)
		}
		if _, ok := m[sessionKey]; ok && in.session {
			t.Fatalf("%q: session key left in %q", b, p)
		}
		if validSID(in.sid) && strings.Trim(in.sid, "0123456789abcdef") != "" {
			t.Fatalf("sid %q passed validSID", in.sid)
		}
	})
}
