package luci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var examples = filepath.Join(repoRoot, "openwrt", "examples")

// TestRemoteACLExample: the ACL shipped for ISPs grants the vpnpass
// methods (all of the contract's, reads apart from writes) and nothing
// else: no other ubus object, no uci, no file access.
func TestRemoteACLExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(examples, "acl.d", "vpnpass-remote.json"))
	if err != nil {
		t.Fatal(err)
	}
	var acl map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &acl); err != nil {
		t.Fatal(err)
	}
	if len(acl) != 1 || acl["vpnpass-remote"] == nil {
		t.Fatalf("want one group vpnpass-remote, got %v", acl)
	}
	var methods []string
	for part, raw := range acl["vpnpass-remote"] {
		if part == "description" {
			continue
		}
		var grant map[string]map[string][]string
		if err := json.Unmarshal(raw, &grant); err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		if len(grant) != 1 || len(grant["ubus"]) != 1 || grant["ubus"]["vpnpass"] == nil {
			t.Errorf("%s grants more than ubus vpnpass: %s", part, raw)
		}
		methods = append(methods, grant["ubus"]["vpnpass"]...)
	}
	sort.Strings(methods)
	want := []string{"doctor", "explain", "history", "metrics", "nat", "probe", "reload", "set", "status"}
	if !reflect.DeepEqual(methods, want) {
		t.Errorf("methods %v, want %v", methods, want)
	}
	conf, err := os.ReadFile(filepath.Join(examples, "rpcd-login.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"list read 'vpnpass-remote'", "list write 'vpnpass-remote'"} {
		if !strings.Contains(string(conf), line) {
			t.Errorf("rpcd-login.conf lacks %q", line)
		}
	}
}

// TestRemoteScript runs the curl example against the ubus JSON-RPC
// stand-in: log in, call, print the result (exit 0); a wrong password is
// rpcd's [6] (exit 3), a method the login's ACL does not grant is uhttpd's
// -32002 (exit 4), and a vpnpass error object in the result is a failure
// (exit 1), each with a message naming it.
func TestRemoteScript(t *testing.T) {
	needTools(t, "curl", "sh")
	fixture, _ := fixtureBackend(t)
	backend := func(method string, params json.RawMessage) (json.RawMessage, error) {
		if method == "nat" { // what the plugin prints when the agent is stopped
			return json.RawMessage(`{"error":{"code":"not_available","message":"the vpnpass daemon is not running: start it with /etc/init.d/vpnpass start"}}`), nil
		}
		return fixture(method, params)
	}
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, ln, backend)
	srv.logins["isp"] = login{password: "s3cret \"quoted\"", acl: filepath.Join(examples, "acl.d", "vpnpass-remote.json"), group: "vpnpass-remote"}
	readOnly := filepath.Join(t.TempDir(), "ro.json")
	if err := os.WriteFile(readOnly, []byte(`{"ro":{"read":{"ubus":{"vpnpass":["status"]}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.logins["viewer"] = login{password: "pw", acl: readOnly, group: "ro"}
	script := filepath.Join(examples, "vpnpass-remote.sh")

	out, err := exec.Command("sh", script, srv.url, "isp", "s3cret \"quoted\"", "status").Output()
	if err != nil {
		t.Fatalf("vpnpass-remote.sh status: %v", err)
	}
	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("script printed %q: %v", out, err)
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "status-fw4-locked.json"))
	_ = json.Unmarshal(b, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("script printed a different status than the agent's")
	}
	if srv.called("status") != 1 {
		t.Errorf("status called %d times", srv.called("status"))
	}
	fails := []struct {
		name string
		args []string
		exit int
		msg  string
	}{
		{"wrong password", []string{"isp", "wrong", "status"}, 3, "login as isp failed: wrong user name or password"},
		{"ACL denial", []string{"viewer", "pw", "set", `{"protocol":"ipsec","mode":"allow"}`}, 4, "vpnpass set: access denied (JSON-RPC -32002)"},
		{"vpnpass error object", []string{"isp", "s3cret \"quoted\"", "nat"}, 1, "vpnpass nat: not_available: the vpnpass daemon is not running"},
	}
	for _, tc := range fails {
		cmd := exec.Command("sh", append([]string{script, srv.url}, tc.args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.exit || !strings.Contains(stderr.String(), tc.msg) || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit %d and %q", tc.name, code, stderr.String(), stdout.String(), tc.exit, tc.msg)
		}
	}
	if srv.called("set") != 0 {
		t.Errorf("a denied set reached the plugin")
	}
}

// TestRemoteScriptShellcheck: the example passes shellcheck.
func TestRemoteScriptShellcheck(t *testing.T) {
	needTools(t, "shellcheck")
	if out, err := exec.Command("shellcheck", filepath.Join(examples, "vpnpass-remote.sh")).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// needTools skips without the tools (build/deps.sh installs them); under
// CI=true it fails instead, as the lab's prerequisites do.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing", tool)
			}
			t.Skipf("%s missing (build/deps.sh installs it)", tool)
		}
	}
}
