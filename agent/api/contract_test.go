package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestRPCDSignatures: the plugin's `list`, generated from the contract, is
// byte for byte what it printed when it was written by hand, and
// docs/interface.md's list (metrics last).
func TestRPCDSignatures(t *testing.T) {
	const want = `{"status":{},"set":{"protocol":"str","mode":"str","dry_run":true},` +
		`"explain":{"proto":"str","dst":"str","dport":32,"src":"str"},"doctor":{"host":"str"},` +
		`"probe":{"host":"str","protocol":"str"},"nat":{"probe":true},` +
		`"history":{"since":"str","kind":"str","limit":32,"until":"str","protocol":"str","before":32},"reload":{},"metrics":{}}`
	if got := RPCDSignatures(); got != want {
		t.Errorf("rpcd list:\n got %s\nwant %s", got, want)
	}
}

// TestParamsAreRPCDTypes: rpcd types a parameter by an example value, which
// exists for strings, booleans and integers only; every params field must
// be one of those and carry its JSON name.
func TestParamsAreRPCDTypes(t *testing.T) {
	for _, s := range Methods {
		if s.paramsType().Kind() != reflect.Struct {
			t.Fatalf("%s: params %v is not a struct", s.Name, s.paramsType())
		}
		for i := 0; i < s.paramsType().NumField(); i++ {
			f := s.paramsType().Field(i)
			if f.Name == "_" && f.Type.Size() == 0 {
				continue // the blank field that keeps params not comparable
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch f.Type.Kind() {
			case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint16, reflect.Uint32:
			default:
				t.Errorf("%s.%s: %v has no rpcd type", s.Name, f.Name, f.Type)
			}
			if name == "" || name == "-" {
				t.Errorf("%s.%s has no JSON name", s.Name, f.Name)
			}
		}
	}
}

// TestACLFilesMatchContract: every rpcd ACL we ship grants exactly the
// contract's methods on the ubus object vpnpass, read methods under read
// and write methods under write, so a method added to the contract cannot
// be forgotten in an ACL (nor a removed one linger there).
func TestACLFilesMatchContract(t *testing.T) {
	want := map[Access][]string{}
	for _, s := range Methods {
		want[s.Access] = append(want[s.Access], s.Name)
	}
	files := map[string]string{
		"../../openwrt/luci-app-vpnpass/root/usr/share/rpcd/acl.d/luci-app-vpnpass.json": "luci-app-vpnpass",
		"../../openwrt/examples/acl.d/vpnpass-remote.json":                               "vpnpass-remote",
	}
	for file, group := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var acl map[string]struct {
			Read, Write struct {
				Ubus map[string][]string `json:"ubus"`
			}
		}
		if err := json.Unmarshal(b, &acl); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		g := acl[group]
		granted := map[Access][]string{Read: g.Read.Ubus["vpnpass"], Write: g.Write.Ubus["vpnpass"]}
		for _, access := range []Access{Read, Write} {
			got := granted[access]
			if !sameSet(got, want[access]) {
				t.Errorf("%s: %s grants %v on vpnpass, the contract's %s methods are %v",
					filepath.Base(file), access, got, access, want[access])
			}
		}
	}
}

func sameSet(a, b []string) bool {
	x := append([]string{}, a...)
	y := append([]string{}, b...)
	sort.Strings(x)
	sort.Strings(y)
	return reflect.DeepEqual(x, y)
}

// TestLookup: the contract answers for its methods and nothing else.
func TestLookup(t *testing.T) {
	if s, ok := Lookup("set"); !ok || s.Access != Write {
		t.Errorf("set: %+v %v", s, ok)
	}
	if s, ok := Lookup("metrics"); !ok || s.Access != Read {
		t.Errorf("metrics: %+v %v", s, ok)
	}
	for _, name := range []string{"frobnicate", "", "STATUS"} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found a method", name)
		}
	}
}

// rpcDeclare matches the LuCI view's rpc.declare of a vpnpass method and
// the params it passes.
var rpcDeclare = regexp.MustCompile(`rpc\.declare\(\{\s*object:\s*'vpnpass',\s*method:\s*'([^']*)'(?:,\s*params:\s*\[([^\]]*)\])?`)

// TestLuCIViewCallsContract: every method the LuCI app declares (vpnpass/common.js) is in the
// contract, with params the method has, so a change of the contract cannot
// leave the page calling what the daemon no longer serves.
func TestLuCIViewCallsContract(t *testing.T) {
	b, err := os.ReadFile("../../openwrt/luci-app-vpnpass/htdocs/luci-static/resources/vpnpass/common.js")
	if err != nil {
		t.Fatal(err)
	}
	decls := rpcDeclare.FindAllStringSubmatch(string(b), -1)
	if len(decls) == 0 {
		t.Fatal("no rpc.declare of a vpnpass method found: has the view's form changed?")
	}
	for _, d := range decls {
		spec, ok := Lookup(d[1])
		if !ok {
			t.Errorf("the view declares %q, which the contract does not have", d[1])
			continue
		}
		have := map[string]bool{}
		for i := 0; i < spec.paramsType().NumField(); i++ {
			name, _, _ := strings.Cut(spec.paramsType().Field(i).Tag.Get("json"), ",")
			have[name] = true
		}
		for _, p := range strings.Split(d[2], ",") {
			if p = strings.Trim(strings.TrimSpace(p), "'"); p != "" && !have[p] {
				t.Errorf("the view passes %q to %s, which has no such param", p, d[1])
			}
		}
	}
}

// TestMethodsMatchTable: each Method variable's params type P is its
// table entry's, and every table entry has its variable.
func TestMethodsMatchTable(t *testing.T) {
	seen := map[*Spec]bool{}
	check := func(name string, s *Spec, p reflect.Type) {
		if s == nil || s.Name != name || reflect.TypeOf(s.params) != p {
			t.Errorf("Method%s: entry %+v does not match its params %v", name, s, p)
		}
		seen[s] = true
	}
	check("status", MethodStatus.Spec, reflect.TypeFor[*NoParams]())
	check("set", MethodSet.Spec, reflect.TypeFor[*SetParams]())
	check("explain", MethodExplain.Spec, reflect.TypeFor[*ExplainParams]())
	check("doctor", MethodDoctor.Spec, reflect.TypeFor[*DoctorParams]())
	check("probe", MethodProbe.Spec, reflect.TypeFor[*ProbeParams]())
	check("nat", MethodNat.Spec, reflect.TypeFor[*NatParams]())
	check("history", MethodHistory.Spec, reflect.TypeFor[*HistoryParams]())
	check("reload", MethodReload.Spec, reflect.TypeFor[*NoParams]())
	check("metrics", MethodMetrics.Spec, reflect.TypeFor[*NoParams]())
	if len(seen) != len(Methods) {
		t.Errorf("%d Method variables for %d table entries", len(seen), len(Methods))
	}
}
