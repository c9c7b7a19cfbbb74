package openwrt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestFW4Smoke: real fw4 (ucode rendering, nft loading) starts, reloads and
// restarts in the harness, and the agent started after it names fw4 as the
// firewall in charge throughout.
func TestFW4Smoke(t *testing.T) {
	Userland(t)
	l := lab.New(t, lab.Config{Topology: lab.Single})
	r := NewRouter(t, l, nil)
	r.StartUbus()
	r.InstallFW4("")
	if out, err := r.FW4("start"); err != nil {
		t.Fatalf("fw4 start: %v\n%s", err, out)
	}
	r.StartAgent()
	for _, step := range []string{"", "reload", "restart"} {
		if step != "" {
			if out, err := r.FW4(step); err != nil {
				t.Fatalf("fw4 %s: %v\n%s", step, err, out)
			}
		}
		out, err := r.Run("", "ubus", "call", "vpnpass", "status")
		var st struct {
			Backend struct{ Kind string }
		}
		if err != nil || json.Unmarshal(out, &st) != nil || st.Backend.Kind != "fw4" {
			t.Errorf("after fw4 %q: status backend %q (%v), want fw4\n%.300s", step, st.Backend.Kind, err, out)
		}
	}
	rules, err := l.Nft("list", "chain", "inet", "fw4", "forward")
	if err != nil || !strings.Contains(string(rules), "jump forward_lan") {
		t.Errorf("fw4's rendered forward chain: %v\n%s", err, rules)
	}
}
