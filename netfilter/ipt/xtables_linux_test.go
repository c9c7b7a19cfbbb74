package ipt

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMoveCounters(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"-A FORWARD -j ACCEPT", "-A FORWARD -j ACCEPT"},
		{"[3:180] -A FORWARD -j ACCEPT", "-A FORWARD -j ACCEPT -c 3 180"},
		{"[x:1] -A FORWARD", "[x:1] -A FORWARD"},
		{"[1:2]-A", "[1:2]-A"},
		{"[:] -A X", "[:] -A X"},
	} {
		if got := moveCounters(c.in); got != c.want {
			t.Errorf("moveCounters(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// fakeTool is a Tool on a shell script that records its arguments and prints
// out, exiting with status code.
func fakeTool(t *testing.T, out string, code int) (*Tool, string) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("the fake iptables is a shell script: no /bin/sh here (%v)", err)
	}
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" >>" + args + "\nprintf '%s' '" + out + "'\necho oops >&2\nexit " + string(rune('0'+code)) + "\n"
	path := filepath.Join(dir, "iptables")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return NewTool(path, 5), args
}

func TestToolListTableAndArgs(t *testing.T) {
	tool, args := fakeTool(t, "-P INPUT ACCEPT\n-P FORWARD DROP\n-N vpnpass_fwd\n-A FORWARD -j vpnpass_fwd\n", 0)
	lines, err := tool.ListTable("filter")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-P INPUT ACCEPT", "-P FORWARD DROP", "-N vpnpass_fwd", "-A FORWARD -j vpnpass_fwd"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %q, want %q", lines, want)
	}
	if err := tool.Insert("filter", "FORWARD", 2, "-p", "gre", "-j", "ACCEPT"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(args)
	want := "-t filter -S --wait 5\n-t filter -I FORWARD 2 -p gre -j ACCEPT --wait 5\n"
	if string(b) != want {
		t.Errorf("argv:\n%s\nwant:\n%s", b, want)
	}
}

func TestToolErrorCarriesStatusAndStderr(t *testing.T) {
	tool, args := fakeTool(t, "", 1)
	// ClearChain: -N fails with status 1 (chain exists), so it flushes.
	err := tool.ClearChain("raw", "vpnpass_helper")
	te, ok := err.(*ToolError)
	if !ok || te.Status != 1 || te.Stderr != "oops\n" {
		t.Fatalf("err = %#v, want a ToolError with status 1 and stderr", err)
	}
	b, _ := os.ReadFile(args)
	if want := "-t raw -N vpnpass_helper --wait 5\n-t raw -F vpnpass_helper --wait 5\n"; string(b) != want {
		t.Errorf("argv:\n%s\nwant:\n%s", b, want)
	}
}
