package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestExitCodes: the exit codes (docs/interface.md#cli) and error forms, for the paths
// that need no kernel (usage errors, a missing daemon, version, help).
func TestExitCodes(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"version", []string{"version"}, ExitOK, ""},
		{"help", []string{"help"}, ExitOK, ""},
		{"no command", nil, ExitUsage, "no command given"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"unknown protocol lists the valid ones", []string{"enable", "sstp"}, ExitUsage, "must be one of pptp, l2tp, ipsec"},
		{"unknown flag", []string{"status", "--bogus"}, ExitUsage, "-bogus"},
		{"missing argument", []string{"enable"}, ExitUsage, "usage: vpnpass enable"},
		{"write without daemon", []string{"enable", "ipsec", "--socket", sock}, ExitNoDaemon, "--direct"},
		{"flags before the command", []string{"--socket", sock, "block", "pptp"}, ExitNoDaemon, "daemon is not running"},
		{"bad explain proto", []string{"explain", "--proto", "icmp", "--dst", "192.0.2.1"}, ExitUsage, "must be one of udp, tcp, gre, esp, ah"},
		{"bad history since", []string{"history", "--since", "yesterday", "--socket", sock}, ExitUsage, "RFC 3339"},
		{"metrics without daemon", []string{"metrics", "--socket", sock}, ExitNoDaemon, "only it counts"},
		{"metrics --direct", []string{"metrics", "--direct", "--socket", sock}, ExitNoDaemon, "only it counts"},
		{"bad history until", []string{"history", "--until", "tomorrow", "--socket", sock}, ExitUsage, "until must be"},
		{"bad history protocol", []string{"history", "--protocol", "sstp", "--socket", sock}, ExitUsage, "must be one of pptp, l2tp, ipsec"},
		{"bad history page", []string{"history", "--before", "-3", "--socket", sock}, ExitUsage, "before must be"},
		{"probe of a name", []string{"probe", "vpn.example", "--socket", sock}, ExitUsage, "must be an IP address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			code := Main(context.Background(), tc.args, env)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderr)
			}
			if tc.code != ExitOK && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
				t.Errorf("error is not one line: %q", errb.String())
			}
		})
	}
}

func TestJSONErrorObject(t *testing.T) {
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := Main(context.Background(), []string{"enable", "sstp", "--json"}, env)
	var eo struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code != ExitUsage || json.Unmarshal(out.Bytes(), &eo) != nil || eo.Error.Code != "bad_params" || eo.Error.Message == "" {
		t.Fatalf("exit %d, stdout %q: want exit 2 and the error object", code, out.String())
	}
}

// TestVersionJSON: `version --json` prints the bytes encoding/json gives
// for the map[string]string it printed before (sorted keys, gomips/goarm
// only when set at link time).
func TestVersionJSON(t *testing.T) {
	for _, set := range []struct{ gomips, goarm string }{{"", ""}, {"softfloat", ""}, {"", "7"}} {
		gomips, goarm = set.gomips, set.goarm
		var out bytes.Buffer
		env := Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		if code := Main(context.Background(), []string{"version", "--json"}, env); code != ExitOK {
			t.Fatalf("exit %d: %s", code, out.String())
		}
		want := map[string]string{"version": version, "commit": commit, "goos": runtime.GOOS, "goarch": runtime.GOARCH}
		if gomips != "" {
			want["gomips"] = gomips
		}
		if goarm != "" {
			want["goarm"] = goarm
		}
		b, _ := json.Marshal(want)
		if out.String() != string(b)+"\n" {
			t.Errorf("gomips %q goarm %q: got %q, want %q", gomips, goarm, out.String(), string(b)+"\n")
		}
	}
	gomips, goarm = "", ""
}
