package luci

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestStandinBehavesLikeUhttpd pins what the /ubus stand-in claims about
// real uhttpd + rpcd (uhttpd ubus.c, rpcd session.c and plugin.c; checked
// against the real ones by `make test-openwrt`): the session id is
// appended to every call's arguments as the plugin receives them, and a
// client may not send it; a call the session's ACL does not grant (or from
// an unknown session) is the JSON-RPC error -32002 "Access denied" with
// HTTP 200, not a ubus status; an unknown object is -32000; only a failed
// session.login is the result [6]; a batch array (LuCI's rpc.js sends the
// calls issued together as one) is answered by an array in order.
func TestStandinBehavesLikeUhttpd(t *testing.T) {
	var got []string
	backend := func(method string, params json.RawMessage) (json.RawMessage, error) {
		got = append(got, method+" "+string(params))
		return json.RawMessage(`{"ok":true}`), nil
	}
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, ln, backend)
	srv.logins["isp"] = login{password: "pw", acl: filepath.Join(examples, "acl.d", "vpnpass-remote.json"), group: "vpnpass-remote"}
	readOnly := "ffffffffffffffffffffffffffffffff"
	srv.sessions[readOnly] = map[string]bool{"status": true}

	call := func(id int, sid, object, method, args string) string {
		return `{"jsonrpc":"2.0","id":` + string(rune('0'+id)) + `,"method":"call","params":["` + sid + `","` + object + `","` + method + `",` + args + `]}`
	}
	tests := []struct{ name, body, want string }{
		{"session key appended", call(1, sessionID, "vpnpass", "set", `{ "protocol": "ipsec", "mode": "allow" }`),
			`{"id":1,"jsonrpc":"2.0","result":[0,{"ok":true}]}`},
		{"empty args", call(2, sessionID, "vpnpass", "status", `{}`), `{"id":2,"jsonrpc":"2.0","result":[0,{"ok":true}]}`},
		{"client-sent session key", call(3, sessionID, "vpnpass", "status", `{"ubus_rpc_session":"`+readOnly+`"}`),
			`{"error":{"code":-32602,"message":"Invalid parameters"},"id":3,"jsonrpc":"2.0"}`},
		{"ACL denial", call(4, readOnly, "vpnpass", "set", `{"protocol":"ipsec","mode":"allow"}`),
			`{"error":{"code":-32002,"message":"Access denied"},"id":4,"jsonrpc":"2.0"}`},
		{"unknown session", call(5, "0123", "vpnpass", "status", `{}`),
			`{"error":{"code":-32002,"message":"Access denied"},"id":5,"jsonrpc":"2.0"}`},
		{"anonymous session", call(6, anonymousSession, "vpnpass", "status", `{}`),
			`{"error":{"code":-32002,"message":"Access denied"},"id":6,"jsonrpc":"2.0"}`},
		{"unknown object", call(7, sessionID, "network", "status", `{}`),
			`{"error":{"code":-32000,"message":"Object not found"},"id":7,"jsonrpc":"2.0"}`},
		{"failed login", call(8, anonymousSession, "session", "login", `{"username":"isp","password":"wrong"}`),
			`{"id":8,"jsonrpc":"2.0","result":[6]}`},
		{"batch", "[" + call(1, readOnly, "vpnpass", "status", `{}`) + "," + call(2, readOnly, "vpnpass", "set", `{}`) + "]",
			`[{"id":1,"jsonrpc":"2.0","result":[0,{"ok":true}]},{"error":{"code":-32002,"message":"Access denied"},"id":2,"jsonrpc":"2.0"}]`},
		{"not JSON", `{"jsonrpc":`, `{"error":{"code":-32700,"message":"Parse error"},"id":null,"jsonrpc":"2.0"}`},
	}
	for _, tc := range tests {
		resp, err := http.Post(srv.url+"/ubus", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(bytes.TrimSpace(b)) != tc.want {
			t.Errorf("%s: HTTP %d %s\nwant HTTP 200 %s", tc.name, resp.StatusCode, b, tc.want)
		}
	}
	want := []string{
		`set {"protocol":"ipsec","mode":"allow","ubus_rpc_session":"` + sessionID + `"}`,
		`status {"ubus_rpc_session":"` + sessionID + `"}`,
		`status {"ubus_rpc_session":"` + readOnly + `"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the plugin received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
