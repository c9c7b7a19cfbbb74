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
// methods (all of INTERFACE.md's, reads apart from writes) and nothing
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
	want := []string{"doctor", "explain", "history", "nat", "probe", "reload", "set", "status"}
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
// stand-in: log in, call, print the result; a wrong password fails.
func TestRemoteScript(t *testing.T) {
	for _, tool := range []string{"curl", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s missing", tool)
		}
	}
	backend, _ := fixtureBackend(t)
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, ln, backend)
	srv.logins["isp"] = login{password: "s3cret \"quoted\"", acl: filepath.Join(examples, "acl.d", "vpnpass-remote.json"), group: "vpnpass-remote"}
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
	if out, err := exec.Command("sh", script, srv.url, "isp", "wrong", "status").CombinedOutput(); err == nil {
		t.Errorf("wrong password accepted: %s", out)
	}
}
