package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileParamsRunNothing: params full of shell syntax, sent through
// the rpcd plugin with hostile and valid session ids, start no program but
// the session lookup, and that one only with the validated id (the static
// side of this is build/execsites).
func TestHostileParamsRunNothing(t *testing.T) {
	sock := whoServer(t, 0)
	dir := t.TempDir()
	mark, log := filepath.Join(dir, "pwned"), filepath.Join(dir, "argv")
	evil := `$(touch ` + mark + `)` + "`touch " + mark + "`;touch " + mark + `|touch ` + mark + "\ntouch " + mark
	p := filepath.Join(dir, "ubus")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + log + "\necho '{\"values\":{\"username\":\"isp\"}}'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := ubusCommand
	ubusCommand = p
	t.Cleanup(func() { ubusCommand = old })
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
	}
	for _, method := range []string{"set", "status"} {
		for _, sid := range []string{evil, testSID + ";touch " + mark, testSID} {
			stdin := `{"protocol":` + q(evil) + `,"mode":` + q(evil) + `,"ubus_rpc_session":` + q(sid) + `}`
			runPlugin(t, sock, method, strings.NewReader(stdin))
		}
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("a hostile parameter ran a command")
	}
	b, _ := os.ReadFile(log)
	want := `-t 2 call session get {"keys":["username"],"ubus_rpc_session":"` + testSID + `"}`
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("ubus ran with %q, want only %q", lines, want)
	}
}
