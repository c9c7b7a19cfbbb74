package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// TestSetModeRewrite: the result must equal the golden file, and everything but the changed mode must
// be semantically identical to the input.
func TestSetModeRewrite(t *testing.T) {
	tests := []struct {
		name, input string // input "" means: no file
		proto       vpn.Protocol
		mode        netfilter.Mode
	}{
		{"change_existing", "custom.uci", vpn.PPTP, netfilter.ModeBlock},
		{"create_section", "custom.uci", vpn.L2TP, netfilter.ModeAllow},
		{"from_design", "design.uci", vpn.IPsec, netfilter.ModeAllow},
		{"missing_file", "", vpn.PPTP, netfilter.ModeAllow},
		{"empty_file", "empty.uci", vpn.IPsec, netfilter.ModeBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vpnpass")
			before := &uci.File{}
			if tt.input != "" {
				src, err := os.ReadFile(filepath.Join("testdata", tt.input))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, src, 0o600); err != nil {
					t.Fatal(err)
				}
				if before, err = uci.Parse(src); err != nil {
					t.Fatal(err)
				}
			}
			if err := SetMode(path, tt.proto, tt.mode); err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "setmode_"+tt.name+".out", out)
			after, err := uci.Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			// Apply the same change to the input tree: the rest must be identical.
			s := before.Section(string(tt.proto))
			if s == nil {
				s = before.AddSection("passthrough", string(tt.proto))
			}
			s.Set("mode", string(tt.mode))
			if !reflect.DeepEqual(strip(before), strip(after)) {
				t.Fatalf("rewrite changed more than the mode:\n%s", out)
			}
			if st, _ := os.Stat(path); tt.input != "" && st.Mode().Perm() != 0o600 {
				t.Fatalf("mode of file changed to %v", st.Mode())
			}
			cfg, probs, err := Load(path)
			if err != nil || len(probs) != 0 || cfg.Modes[tt.proto] != tt.mode {
				t.Fatalf("reload: %v %v %v", err, probs, cfg.Modes)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".vpnpass.tmp-*")); len(left) != 0 {
				t.Fatalf("temp files left: %v", left)
			}
		})
	}
}

// strip drops line numbers, which a rewrite changes.
func strip(f *uci.File) []string {
	var out []string
	for _, s := range f.Sections {
		out = append(out, "config "+s.Type+" "+s.Name)
		for _, o := range s.Options {
			out = append(out, o.Name+"="+strings.Join(o.Values, "|"))
		}
	}
	return out
}

func TestSetModeRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		proto         vpn.Protocol
		mode          netfilter.Mode
		wantErr       string
	}{
		{"bad protocol", "", "openvpn", netfilter.ModeAllow, "unknown protocol"},
		{"bad mode", "", vpn.PPTP, "on", "unknown mode"},
		{"injection", "", vpn.PPTP, "allow; rm -rf /", "unknown mode"},
		{"wrong section type", "config agent 'pptp'\n", vpn.PPTP, netfilter.ModeAllow, "has type \"agent\""},
		{"unparsable", "config agent 'main\n", vpn.PPTP, netfilter.ModeAllow, "unterminated"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "cfg"+string(rune('a'+i)))
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			err := SetMode(path, tt.proto, tt.mode)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Fatalf("file changed: %q", got)
			}
		})
	}
}
