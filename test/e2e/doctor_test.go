package e2e

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

type doctorJSON struct {
	Source   string `json:"source"`
	Findings []struct {
		Code     string         `json:"code"`
		Severity string         `json:"severity"`
		Protocol string         `json:"protocol"`
		Host     string         `json:"host"`
		Peer     string         `json:"peer"`
		Message  string         `json:"message"`
		Advice   string         `json:"advice"`
		Params   map[string]any `json:"params"`
	} `json:"findings"`
	Sessions []struct {
		Protocol string `json:"protocol"`
		Host     string `json:"host"`
		Peer     string `json:"peer"`
	} `json:"sessions"`
}

// TestDoctorFirewallDrops: a LAN client's IKE is rejected by this router's
// own (locked-down fw4) firewall, behind a double NAT. Conntrack never sees
// those packets; the observer does. Once the session has been quiet for 30 s
// the agent's doctor says firewall-drops (with the double NAT beside it) in
// words, and records it in the history.
func TestDoctorFirewallDrops(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{Topology: lab.Double, Firewalls: []lab.Firewall{lab.FW4Locked}})
	a := startAgent(t, l)
	for i := 0; i < 3; i++ {
		_, _, _ = lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server, 500), []byte("IKE_SA_INIT?"), 300*time.Millisecond)
	}
	var doc doctorJSON
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := a.cli("doctor", "--json", "--host", lab.LANHost.String())
		if err != nil {
			t.Fatalf("doctor: %v\n%s", err, out)
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("doctor JSON: %v\n%s", err, out)
		}
		if len(doc.Findings) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if doc.Source != "live" {
		t.Errorf("source %q, want live", doc.Source)
	}
	codes := map[string]bool{}
	for _, f := range doc.Findings {
		codes[f.Code] = true
		if f.Host != lab.LANHost.String() || f.Peer != lab.Server.String() || f.Protocol != "ipsec" {
			t.Errorf("finding %s names %s → %s (%s), want %s → %s (ipsec)", f.Code, f.Host, f.Peer, f.Protocol, lab.LANHost, lab.Server)
		}
		if f.Message == "" || f.Advice == "" {
			t.Errorf("finding %s has no message or advice", f.Code)
		}
	}
	if !codes["firewall-drops"] {
		out, _ := a.cli("doctor", "--json")
		obs, _ := l.Nft("list", "table", "inet", "vpnpass_watch")
		t.Fatalf("findings %v, want firewall-drops\ndoctor: %s\nobserver:\n%s", codes, out, obs)
	}
	if !codes["vpn-behind-double-nat"] {
		t.Errorf("findings %v, want vpn-behind-double-nat beside it (the lab is double NAT)", codes)
	}
	if codes["vpn-ok"] {
		t.Error("a rejected IKE was judged vpn-ok")
	}
	h := a.history(t, "vpn.finding")
	if len(h.Events) == 0 {
		t.Fatal("no vpn.finding event in the history")
	}
	out, _ := a.cli("doctor")
	if !strings.Contains(string(out), "What to do:") {
		t.Errorf("human doctor output lacks advice:\n%s", out)
	}
}
