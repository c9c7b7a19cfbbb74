package nfteval

import (
	"net"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// TestKnowable: what a new LAN→WAN packet makes knowable is decided, and
// only when the caller says what it knows (marks as they arrive, DNAT,
// the clock, the MAC); unknown stays uncertain.
func TestKnowable(t *testing.T) {
	const A, D, U = netfilter.Accept, netfilter.Drop, netfilter.Uncertain
	mangle := func(set string, rules ...string) string {
		return "table inet k {\n\tchain mangle_forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\t" + set +
			"\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\t" + joinLines(rules) + "\n\t}\n}\n"
	}
	marked := mangle(`udp dport 500 meta mark set 0x10 comment "set"`, `meta mark 0x10 accept comment "marked"`)
	maybeMarked := mangle(`udp dport 500 limit rate 1/second meta mark set 0x10 comment "set"`, `meta mark 0x10 accept comment "marked"`)
	ctMarked := mangle(`ct mark set 0x7 comment "set"`, `ct mark 0x7 accept comment "ctmarked"`)
	dnat := base("drop", `ct status dnat accept comment "dnat"`)
	tm := base("drop", `meta time >= "2020-01-01 00:00:00" accept comment "since2020"`)
	mac := base("accept", `ether saddr 02:00:5e:00:53:01 drop comment "mac"`)
	ah := base("accept", `meta nfproto ipv6 meta l4proto ah accept comment "ah"`, `reject comment "rj"`)
	ahCt := base("accept", `ct protocol ipv6 drop comment "inner"`)
	limitAccept := base("accept", `udp dport 500 limit rate 10/second accept comment "lim"`)
	limitDrop := base("drop", `udp dport 500 limit rate 10/second accept comment "lim"`)

	udp := lanToWAN(vpn.IPv4, vpn.ProtoUDP, 500, "new")
	mod := func(f func(*netfilter.Packet)) netfilter.Packet { return with(udp, f) }
	zeroMarks := func(p *netfilter.Packet) { p.Mark, p.CtMark = netfilter.U32(0), netfilter.U32(0) }
	notDNAT := func(p *netfilter.Packet) { p.DNAT = netfilter.Bool(false) }
	at := func(y int) func(*netfilter.Packet) {
		return func(p *netfilter.Packet) { p.Now = time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }
	}
	withMAC := func(m string) func(*netfilter.Packet) {
		return func(p *netfilter.Packet) { p.SrcMAC, _ = net.ParseMAC(m) }
	}
	ah6 := lanToWAN(vpn.IPv6, vpn.ProtoAH, 0, "new")
	ahLocked := with(ah6, func(p *netfilter.Packet) {})
	cases := []struct {
		name, ruleset string
		p             netfilter.Packet
		verdict       netfilter.Verdict
		by            string
	}{
		{"mark set in an earlier chain", marked, mod(zeroMarks), A, "marked"},
		{"mark unknown as it arrives", marked, udp, A, "marked"}, // the set makes it known
		{"mark set by a doubtful rule", maybeMarked, mod(zeroMarks), U, "marked"},
		{"ct mark set in an earlier chain", ctMarked, mod(zeroMarks), A, "ctmarked"},
		{"ct status dnat: not DNATed", dnat, mod(notDNAT), D, "policy"},
		{"ct status dnat: unknown", dnat, udp, U, "dnat"},
		{"meta time after", tm, mod(at(2021)), A, "since2020"},
		{"meta time before", tm, mod(at(2019)), D, "policy"},
		{"ether saddr of the host", mac, mod(withMAC("02:00:5e:00:53:01")), D, "mac"},
		{"ether saddr of another host", mac, mod(withMAC("02:00:5e:00:53:02")), A, "policy"},
		{"ether saddr unknown", mac, udp, U, "mac"},
		{"IPv6 AH: nftables sees ah", ah, ah6, A, "ah"},
		{"limit then accept, policy accept: accept either way", limitAccept, udp, A, "lim"},
		{"limit then accept, policy drop: uncertain", limitDrop, udp, U, "lim"},
		{"IPv6 AH: conntrack sees the inner packet", ahCt, ahLocked, D, "inner"},
	}
	loaded := map[string]*Ruleset{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := loaded[c.ruleset]
			if rs == nil {
				ns := newNS(t)
				ns.load(t, c.ruleset)
				rs = ns.read(t)
				loaded[c.ruleset] = rs
			}
			e := forward(t, rs, c.p)
			by := ""
			if e.DecidedBy != nil {
				by = e.DecidedBy.Comment
				if e.DecidedBy.Policy != "" {
					by = "policy"
				}
			}
			if e.Verdict != c.verdict || by != c.by {
				t.Errorf("got %s by %q, want %s by %q\n%s", e.Verdict, by, c.verdict, c.by, pathText(e))
			}
		})
	}
}

// TestIPv6AHRejectIsDrop: a reject of IPv6 AH sends nothing (the kernel
// checks the carried packet's checksum first, and a tunnel's inner IPv6
// packet has none), so the host sees a drop.
func TestIPv6AHRejectIsDrop(t *testing.T) {
	ns := newNS(t)
	ns.load(t, base("accept", `meta l4proto ah reject comment "rj"`))
	e := forward(t, ns.read(t), lanToWAN(vpn.IPv6, vpn.ProtoAH, 0, "new"))
	if e.Verdict != netfilter.Drop {
		t.Fatalf("got %s, want drop\n%s", e.Verdict, pathText(e))
	}
}

func joinLines(rules []string) string {
	out := ""
	for i, r := range rules {
		if i > 0 {
			out += "\n\t\t"
		}
		out += r
	}
	return out
}
