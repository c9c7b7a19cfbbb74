package lab

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := ReadTestdata(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderFW4Golden: the default rendering, byte for byte, so a reviewer
// sees exactly what the lab loads.
func TestRenderFW4Golden(t *testing.T) {
	got, err := renderFW4(readFixture(t, "fw4-default.nft"), "eth1", "/LAB/nftables.d", "", false)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fw4-rendered.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("rendered fw4 differs from %s (run with -update and review the diff)", golden)
	}
}

func TestRenderFW4(t *testing.T) {
	fixture := readFixture(t, "fw4-default.nft")
	tests := []struct {
		name       string
		wan, incl  string
		locked     bool
		want, not  []string
		forwardTop string // first statement of chain forward
	}{
		{name: "default", wan: "eth1",
			want:       []string{fw4AcceptToWAN, `define wan_devices = { "eth1" }`, `include "/U/*.nft"`, "# - dropped: flowtable"},
			not:        []string{"flowtable ft", "flow offload", "rtsp", "pppoe-wan", "/etc/nftables.d"},
			forwardTop: `ct state vmap { established : accept, related : accept } comment "!fw4: Handle forwarded flows"`},
		{name: "locked", wan: "eth1", locked: true,
			want: []string{"jump accept_to_wan\n", "dropped (fw4-locked)"},
			not:  []string{fw4AcceptToWAN}},
		{name: "wan name", wan: "wan0",
			want: []string{`oifname "wan0" jump srcnat_wan`, "pppoe-wan -> wan0"},
			not:  []string{`"eth1"`}},
		{name: "chain-pre include", wan: "eth1", incl: "/run/vpnpass/fw4",
			want:       []string{"added: chain-pre include /run/vpnpass/fw4/*.nft"},
			forwardTop: `include "/run/vpnpass/fw4/*.nft"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderFW4(fixture, tt.wan, "/U", tt.incl, tt.locked)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("rendering lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(code(got), n) {
					t.Errorf("rendering still has %q", n)
				}
			}
			if tt.forwardTop != "" {
				if top := firstStatement(got, "chain forward {"); top != tt.forwardTop {
					t.Errorf("chain forward starts with %q, want %q", top, tt.forwardTop)
				}
			}
		})
	}
}

// code drops comment lines: the rendered header names what was removed.
func code(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// firstStatement returns the first statement of a chain after its type
// line, skipping blank lines.
func firstStatement(text, chainOpen string) string {
	_, rest, ok := strings.Cut(text, chainOpen)
	if !ok {
		return ""
	}
	lines := strings.Split(rest, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "type ") {
			for _, s := range lines[i+1:] {
				if s = strings.TrimSpace(s); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

func TestRenderFW4RejectsChangedFixture(t *testing.T) {
	fixture := readFixture(t, "fw4-default.nft")
	for name, edit := range map[string]func(string) string{
		"no flowtable": func(s string) string { return strings.Replace(s, "flowtable ft {", "flowtable_gone {", 1) },
		"no lan rule":  func(s string) string { return strings.Replace(s, fw4AcceptToWAN, "jump accept_to_wan", 1) },
		"no include":   func(s string) string { return strings.Replace(s, "/etc/nftables.d/*.nft", "/x/*.nft", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := renderFW4(edit(fixture), "eth1", "/U", "", true); err == nil {
				t.Error("rendering a changed fixture succeeded; the lab would load something else than it says")
			}
		})
	}
}

func TestRenderFW3(t *testing.T) {
	fixture := readFixture(t, "fw3-default.rules")
	masq := `-A zone_wan_postrouting -m comment --comment "!fw3" -j MASQUERADE`
	tests := []struct {
		name       string
		wan        string
		locked     bool
		both, not  []string // in (not in) both families
		ipv4, ipv6 []string // in one family only
	}{
		{"default", "eth1", false, []string{fw3LanToWAN}, nil, []string{masq, "icmp-port-unreachable"}, []string{"icmp6-port-unreachable"}},
		{"locked", "eth1", true, []string{"-j zone_wan_dest_REJECT"}, []string{fw3LanToWAN}, []string{masq}, nil},
		{"wan name", "wan0", false, []string{"-o wan0 -m comment", "-i wan0 -m comment"}, []string{" eth1 "}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v4, v6, err := renderFW3(fixture, tt.wan, tt.locked)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(v6, "*nat") || !strings.Contains(v4, "*nat") {
				t.Error("IPv4/IPv6 split wrong: NAT belongs to IPv4 only")
			}
			check := func(family, part string, want, not []string) {
				for _, w := range want {
					if !strings.Contains(part, w) {
						t.Errorf("%s rendering lacks %q", family, w)
					}
				}
				for _, n := range not {
					if strings.Contains(code(part), n) {
						t.Errorf("%s rendering still has %q", family, n)
					}
				}
				if !strings.HasSuffix(part, "COMMIT\n") {
					t.Errorf("%s part does not end in COMMIT and a newline", family)
				}
			}
			check("IPv4", v4, append(tt.both, tt.ipv4...), tt.not)
			check("IPv6", v6, append(tt.both, tt.ipv6...), tt.not)
		})
	}
}

func firewallsName(fws []Firewall) string {
	if len(fws) == 0 {
		return string(FirewallNone)
	}
	var s []string
	for _, f := range fws {
		s = append(s, string(f))
	}
	return strings.Join(s, "+")
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		bad  bool
	}{
		{"", "", false},
		{"none", "", false},
		{"fw4-locked", "fw4-locked", false},
		{"fw4, iptables-nft-drop", "fw4+iptables-nft-drop", false},
		{"fw5", "", true},
	} {
		fws, err := ParseFirewalls(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("ParseFirewalls(%q) error %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if got := strings.TrimPrefix(firewallsName(fws), string(FirewallNone)); !tt.bad && got != tt.want {
			t.Errorf("ParseFirewalls(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"single", "Double", "cgnat"} {
		topo, err := ParseTopology(s)
		if err != nil || !strings.EqualFold(topo.String(), s) {
			t.Errorf("ParseTopology(%q) = %v, %v", s, topo, err)
		}
	}
	if _, err := ParseTopology("triple"); err == nil {
		t.Error("ParseTopology(triple) succeeded")
	}
	if err := (Config{Firewalls: []Firewall{FW4, FW4Locked}}).validate(); err == nil {
		t.Error("fw4 with fw4-locked validated")
	}
}
