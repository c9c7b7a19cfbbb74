package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/agent/api"
)

// TestDoctorListsWorkingSessions: the human doctor output shows a working
// session (vpn-ok while live) with what proves it, from the API's JSON as
// the daemon sends it; a session without a finding is still in progress.
func TestDoctorListsWorkingSessions(t *testing.T) {
	const live = `{"source":"live","findings":[{"code":"vpn-ok","severity":"ok","protocol":"ipsec",
	"host":"192.168.1.10","peer":"203.0.113.10","first_seen":"2025-03-01T12:00:00Z","last_seen":"2025-03-01T12:00:05Z",
	"message":"The IPsec VPN from your device 192.168.1.10 to 203.0.113.10 works.","advice":"Nothing to do.",
	"params":{"live":true,"answered":["udp/500","udp/4500","udp/4500-esp"],"since":"2025-03-01T12:00:00Z",
	"packets_out":42,"packets_in":40,"offloaded":false},"evidence":[]}],
	"sessions":[{"protocol":"ipsec","host":"192.168.1.10","peer":"203.0.113.10","phase":"data-answered","first_seen":"2025-03-01T12:00:00Z","last_seen":"2025-03-01T12:00:05Z","flows":2},
	{"protocol":"pptp","host":"192.168.1.11","peer":"203.0.113.10","phase":"control-answered","first_seen":"2025-03-01T12:00:00Z","last_seen":"2025-03-01T12:00:05Z","flows":1}]}`
	var res api.DoctorResult
	if err := json.Unmarshal([]byte(live), &res); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := printDoctor(&b, &res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"[ok] vpn-ok  192.168.1.10 → 203.0.113.10",
		"Seen: answered udp/500, udp/4500, udp/4500-esp since ", "; 42 packets out, 40 in; in use now",
		"In progress", "pptp  192.168.1.11 → 203.0.113.10  control-answered"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ipsec  192.168.1.10") {
		t.Errorf("the working session is listed as in progress too:\n%s", out)
	}
}
