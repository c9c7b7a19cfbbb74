package e2e

import (
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestDoctorRouterSessionAfterWANChange: the router's WAN address changes
// while the agent runs (a PPPoE reconnect or a DHCP renewal does that every
// day on many lines), then the router itself tries IPsec (`vpnpass probe`,
// or an IPsec client on the router) toward a server that does not answer.
// The agent must still see that as the router's own session, from its new
// address: ike-unanswered for the router.
func TestDoctorRouterSessionAfterWANChange(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{})
	a := startAgentPublic(t, l)
	const newWAN = "198.51.100.5"
	for _, args := range [][]string{
		{"addr", "del", l.RouterWAN.String(), "dev", l.WANDevice},
		{"addr", "add", newWAN + "/24", "dev", l.WANDevice},
		{"route", "replace", "default", "via", l.Gateway.String(), "dev", l.WANDevice},
	} {
		if out, err := l.Router.Run("ip", args...); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	time.Sleep(3 * time.Second) // one judging tick past the change
	if out, err := a.cli("probe", lab.Server.String(), "--protocol", "ipsec", "--json"); err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	k := key(newWAN, lab.Server.String(), "ipsec")
	doc := waitDoctor(t, a, k)
	logFindings(t, doc)
	wantSession(t, doc, k, "ike-unanswered")
}
