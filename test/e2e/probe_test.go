package e2e

import (
	"encoding/json"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
)

// TestProbeThroughAgent: `vpnpass probe` through the agent reaches a PPTP
// server (answered) and an L2TP port nobody listens on (refused), and a bad
// host is a usage error.
func TestProbeThroughAgent(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	var srv *pptppeer.Server
	if err := l.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	a := startAgent(t, l)
	for _, tc := range []struct{ proto, want string }{{"pptp", "answered"}, {"l2tp", "refused"}} {
		out, err := a.cli("probe", lab.Server.String(), "--protocol", tc.proto, "--json")
		if err != nil {
			t.Fatalf("probe %s: %v\n%s", tc.proto, err, out)
		}
		var res struct {
			Results []struct {
				Protocol, Outcome string
				Port              int
			} `json:"results"`
		}
		if err := json.Unmarshal(out, &res); err != nil || len(res.Results) != 1 {
			t.Fatalf("probe %s JSON: %v\n%s", tc.proto, err, out)
		}
		if r := res.Results[0]; r.Protocol != tc.proto || r.Outcome != tc.want {
			t.Errorf("probe %s: %+v, want outcome %s", tc.proto, r, tc.want)
		}
	}
	if out, err := a.cli("probe", "not-an-ip"); err == nil {
		t.Errorf("probe of a non-address succeeded:\n%s", out)
	}
}
