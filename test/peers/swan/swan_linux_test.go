package swan

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestSwanctlConf(t *testing.T) {
	tests := []struct {
		file string
		cfg  Config
	}{
		{"responder.conf", Config{Role: Responder}},
		{"initiator.conf", Config{Role: Initiator}},
		{"initiator-plain.conf", Config{Role: Initiator, NoVirtualIP: true, Encap: true, PSK: "other"}},
	}
	for _, tt := range tests {
		got := tt.cfg.withDefaults().swanctlConf()
		path := filepath.Join("testdata", tt.file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.file, got, want)
		}
	}
}

// TestVPN: the standard pair comes up through the router's NAT, and IKE
// floats to UDP 4500 (NAT detected).
func TestVPN(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	srv := Start(t, l.Inet, Config{Role: Responder})
	cli := Start(t, l.LAN, Config{Role: Initiator})
	if err := cli.Initiate(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	sas, err := srv.SAs()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ESTABLISHED", "INSTALLED", l.PublicAddr.String() + "[4500]"} {
		if !strings.Contains(sas, want) {
			t.Errorf("responder's SAs lack %q:\n%s", want, sas)
		}
	}
	if !strings.Contains(srv.Logs(), "IKE_SA_INIT") {
		t.Error("responder's log does not show the IKE_SA_INIT")
	}
}

// TestWrongPSK: the server rejects a client whose key differs.
func TestWrongPSK(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	srv := Start(t, l.Inet, Config{Role: Responder})
	cli := Start(t, l.LAN, Config{Role: Initiator, PSK: "not-the-secret"})
	if err := cli.Initiate(15 * time.Second); err == nil {
		t.Fatal("Initiate succeeded with the wrong PSK")
	}
	if logs := srv.Logs(); !strings.Contains(logs, "N(AUTH_FAILED)") {
		t.Errorf("responder's log does not show N(AUTH_FAILED):\n%s", tail(logs, 30))
	}
	srv.Stop()
	srv.Stop() // idempotent
}
