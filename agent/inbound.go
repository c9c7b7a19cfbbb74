package agent

import (
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/diagnose"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/vpn"
)

// noInbound is status.inbound with no server: every protocol, no entries.
func noInbound() map[vpn.Protocol][]netfilter.InboundStatus {
	out := map[vpn.Protocol][]netfilter.InboundStatus{}
	for _, p := range vpn.Toggled {
		out[p] = []netfilter.InboundStatus{}
	}
	return out
}

// collectInbound judges the servers of in against the firewall.
func collectInbound(src Sources, in StatusInput, nat wan.Nat) (map[vpn.Protocol][]netfilter.InboundStatus, error) {
	if src.Inbound == nil || len(in.Servers) == 0 {
		return noInbound(), nil
	}
	o := fw.InboundOptions{LANDevices: in.LANDevices, WANDevice: nat.WANDevice, Servers: in.Servers}
	for _, a := range nat.Addresses {
		if p, err := parseHostAddr(a); err == nil && p.Is4() {
			o.WANAddr = p
			break
		}
	}
	return src.Inbound(o)
}

// configServers lists the `config server` sections as servers to judge:
// each address with the section's protocols.
func configServers(servers []config.Server) []fw.InboundServer {
	var out []fw.InboundServer
	for _, s := range servers {
		for _, a := range s.Addresses {
			out = addServer(out, a, s.Protocols...)
		}
	}
	return out
}

// addServer adds protocols to the server at a, or a new server.
func addServer(list []fw.InboundServer, a netip.Addr, ps ...vpn.Protocol) []fw.InboundServer {
	a = a.Unmap()
	for i := range list {
		if list[i].Addr == a {
			for _, p := range ps {
				if !hasProto(list[i].Protocols, p) {
					list[i].Protocols = append(list[i].Protocols, p)
				}
			}
			return list
		}
	}
	return append(list, fw.InboundServer{Addr: a, Protocols: append([]vpn.Protocol(nil), ps...)})
}

func hasProto(ps []vpn.Protocol, p vpn.Protocol) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// parseHostAddr reads an address written plain or with its prefix length.
func parseHostAddr(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), nil
	}
	return netip.ParseAddr(s)
}

// ConfigServers lists the `config server` sections as servers to judge:
// each address with the section's protocols.
func ConfigServers(cfg config.Config) []fw.InboundServer { return configServers(cfg.Servers) }

// inboundServers are the configured servers plus the LAN hosts port
// forwards sent inbound attempts to.
func (d *Daemon) inboundServers(servers []config.Server) []fw.InboundServer {
	out := configServers(servers)
	if d.doc == nil {
		return out
	}
	d.doc.mu.Lock()
	seen := d.doc.in.tracker.Servers()
	d.doc.mu.Unlock()
	// In address order: the same servers give the same list (the status
	// cache compares it, the status lists them in this order).
	// (Insertion: a few servers; slices.SortFunc on netip.Addr would
	// instantiate a 14 KB sort.)
	addrs := make([]netip.Addr, 0, len(seen))
	for a := range seen {
		i := len(addrs)
		addrs = append(addrs, a)
		for ; i > 0 && addrs[i-1].Compare(a) > 0; i-- {
			addrs[i] = addrs[i-1]
		}
		addrs[i] = a
	}
	for _, a := range addrs {
		out = addServer(out, a, seen[a]...)
	}
	return out
}

// inboundDoctor is the doctor's inbound half: attempts from the WAN toward
// servers on the LAN, and their findings.
type inboundDoctor struct {
	tracker  *diagnose.InboundTracker
	findings []diagnose.Finding
}

// splitInbound separates the observer's inbound counts (vpn.DirWAN) from
// the counts of LAN sessions.
func splitInbound(entries []vpn.ObserverEntry) (lan, wan []vpn.ObserverEntry) {
	for _, e := range entries {
		if e.Direction == vpn.DirWAN {
			wan = append(wan, e)
		} else {
			lan = append(lan, e)
		}
	}
	return lan, wan
}

// judgeInbound feeds the inbound counts, judges the attempts and records
// the findings that are new since the last judgement as vpn.finding events.
func (d *Daemon) judgeInbound(now time.Time, wan []vpn.ObserverEntry, c *diagnose.Classifier, facts *diagnose.Context) {
	d.mu.Lock()
	servers := map[netip.Addr][]vpn.Protocol{}
	for _, s := range configServers(d.cfg.Servers) {
		servers[s.Addr] = s.Protocols
	}
	d.mu.Unlock()
	doc := d.doc
	doc.mu.Lock()
	in := &doc.in
	in.tracker.Classifier = *c
	in.tracker.ObserveWAN(wan, now)
	fs := in.tracker.Judge(diagnose.InboundContext{Now: now, NAT: facts.NAT, Servers: servers, HostInfo: facts.HostInfo})
	in.tracker.Expire(now)
	changed := newFindings(in.findings, fs)
	in.findings = fs
	doc.mu.Unlock()
	d.recordFindings(changed)
}

// newFindings returns the findings of next that prev did not have.
func newFindings(prev, next []diagnose.Finding) []diagnose.Finding {
	key := func(f diagnose.Finding) string {
		return string(f.Code) + "|" + f.Host + "|" + f.Peer + "|" + string(f.Protocol)
	}
	had := map[string]bool{}
	for _, f := range prev {
		had[key(f)] = true
	}
	var out []diagnose.Finding
	for _, f := range next {
		if !had[key(f)] {
			out = append(out, f)
		}
	}
	return out
}

// inboundView returns the inbound findings for host (all when invalid).
// The caller holds doc.mu.
func (doc *doctor) inboundView(host netip.Addr) []diagnose.Finding {
	var out []diagnose.Finding
	for _, f := range doc.in.findings {
		if !host.IsValid() || f.Host == host.String() {
			out = append(out, f)
		}
	}
	return out
}
