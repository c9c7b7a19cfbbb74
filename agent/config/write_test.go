package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// TestSetModeRewrite covers the file rewrite used where uci is absent: the
// result must equal the golden file, and everything but the changed mode must
// be semantically identical to the input.
func TestSetModeRewrite(t *testing.T) {
	tests := []struct {
		name, input string // input "" means: no file
		proto       netfilter.Protocol
		mode        netfilter.Mode
	}{
		{"change_existing", "custom.uci", netfilter.PPTP, netfilter.ModeBlock},
		{"create_section", "custom.uci", netfilter.L2TP, netfilter.ModeAllow},
		{"from_design", "design.uci", netfilter.IPsec, netfilter.ModeAllow},
		{"missing_file", "", netfilter.PPTP, netfilter.ModeAllow},
		{"empty_file", "empty.uci", netfilter.IPsec, netfilter.ModeBlock},
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
			if err := (Writer{NoUCI: true}).SetMode(path, tt.proto, tt.mode); err != nil {
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
		proto         netfilter.Protocol
		mode          netfilter.Mode
		wantErr       string
	}{
		{"bad protocol", "", "openvpn", netfilter.ModeAllow, "unknown protocol"},
		{"bad mode", "", netfilter.PPTP, "on", "unknown mode"},
		{"injection", "", netfilter.PPTP, "allow; rm -rf /", "unknown mode"},
		{"wrong section type", "config agent 'pptp'\n", netfilter.PPTP, netfilter.ModeAllow, "has type \"agent\""},
		{"unparsable", "config agent 'main\n", netfilter.PPTP, netfilter.ModeAllow, "unterminated"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "cfg"+string(rune('a'+i)))
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			w := Writer{UCI: filepath.Join(dir, "must-not-run")}
			err := w.SetMode(path, tt.proto, tt.mode)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Fatalf("file changed: %q", got)
			}
		})
	}
}

// fakeUCI writes a script that logs its arguments, one invocation a line.
func fakeUCI(t *testing.T, exit int) (bin, log string) {
	dir := t.TempDir()
	bin, log = filepath.Join(dir, "uci"), filepath.Join(dir, "log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\necho 'uci: Invalid argument' >&2\nexit " +
		map[bool]string{true: "0", false: "1"}[exit == 0] + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

func TestSetModeViaUCI(t *testing.T) {
	tests := []struct {
		name, content string
		proto         netfilter.Protocol
		want          []string
	}{
		{"existing section", "config passthrough 'pptp'\n\toption mode 'default'\n", netfilter.PPTP,
			[]string{"-c DIR set vpnpass.pptp.mode=allow", "-c DIR commit vpnpass"}},
		{"missing section", "config agent 'main'\n", netfilter.IPsec,
			[]string{"-c DIR set vpnpass.ipsec=passthrough", "-c DIR set vpnpass.ipsec.mode=allow", "-c DIR commit vpnpass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, log := fakeUCI(t, 0)
			dir := t.TempDir()
			path := filepath.Join(dir, "vpnpass")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := (Writer{UCI: bin}).SetMode(path, tt.proto, netfilter.ModeAllow); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(log)
			want := strings.ReplaceAll(strings.Join(tt.want, "\n")+"\n", "DIR", dir)
			if string(got) != want {
				t.Fatalf("uci calls:\n%s\nwant:\n%s", got, want)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Fatal("the file must be left to uci")
			}
		})
	}
}

func TestSetModeUCIFailure(t *testing.T) {
	bin, _ := fakeUCI(t, 1)
	path := filepath.Join(t.TempDir(), "vpnpass")
	err := (Writer{UCI: bin}).SetMode(path, netfilter.L2TP, netfilter.ModeBlock)
	if err == nil || !strings.Contains(err.Error(), "uci: Invalid argument") {
		t.Fatalf("got %v", err)
	}
}

// A config path whose name is not a valid uci package (vpnpass.conf) cannot
// be addressed by uci, so the file is rewritten instead.
func TestSetModeNonPackageNameRewrites(t *testing.T) {
	bin, log := fakeUCI(t, 0)
	path := filepath.Join(t.TempDir(), "vpnpass.conf")
	if err := (Writer{UCI: bin}).SetMode(path, netfilter.PPTP, netfilter.ModeBlock); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(log); err == nil {
		t.Fatal("uci must not run")
	}
	cfg, _, err := Load(path)
	if err != nil || cfg.Modes[netfilter.PPTP] != netfilter.ModeBlock {
		t.Fatal(err, cfg.Modes)
	}
}
