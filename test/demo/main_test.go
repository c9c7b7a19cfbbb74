package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// fakeVpnpass writes a stand-in for the vpnpass binary: the demo must show
// whatever the binary prints, and say so when it fails.
func fakeVpnpass(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vpnpass")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemoRuns(t *testing.T) {
	lab.Require(t)
	lab.RequireTools(t, lab.FW4Locked)
	tests := []struct {
		name     string
		script   string
		args     []string
		wantCode int
		want     []string
	}{
		{"default double NAT fw4-locked", `echo "status from $VPNPASS_SOCKET: $*"; readlink /proc/self/ns/net`, nil, 0, []string{
			"=== The lab", "Lab: lan 192.168.1.10 — router (fw4, locked down; WAN eth1 192.168.0.2) — isp NAT 192.168.0.1",
			"203.0.113.10:500: rejected", "=== vpnpass status (in the router)", "status from ", ": status", "=== Removing the lab"}},
		{"single, no firewall, failing status", `echo broken; exit 3`, []string{"--topology", "single", "--firewall", "none"}, 1, []string{
			"203.0.113.10:500: answered; the server saw 198.51.100.2", "broken", "step status failed: vpnpass status exited with status 3"}},
		{"only one step", `echo should not run`, []string{"--steps", "lab"}, 0, []string{"=== The lab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := fakeVpnpass(t, tt.script)
			var out, errOut bytes.Buffer
			code := run(append([]string{"--vpnpass", bin}, tt.args...), &out, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.name == "only one step" && strings.Contains(out.String(), "should not run") {
				t.Error("--steps lab ran other steps")
			}
			assertNoLabLeft(t, out.String())
		})
	}
}

// assertNoLabLeft checks that the namespaces the demo printed are gone.
func assertNoLabLeft(t *testing.T, out string) {
	t.Helper()
	left, err := lab.ListNamespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range left {
		if strings.Contains(out, ns) {
			t.Errorf("namespace %s left after the demo", ns)
		}
	}
}

func TestDemoFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"--vpnpass", "/nonexistent/vpnpass"}, 2},
		{[]string{"--vpnpass", os.Args[0], "--topology", "triple"}, 2},
		{[]string{"--vpnpass", os.Args[0], "--firewall", "fw5"}, 2},
		{[]string{"--list"}, 0},
	} {
		var out, errOut bytes.Buffer
		if code := run(tt.args, &out, &errOut); code != tt.code {
			t.Errorf("run(%v) = %d, want %d (%s)", tt.args, code, tt.code, errOut.String())
		}
	}
}
