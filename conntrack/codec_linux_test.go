package conntrack_test

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"
	nf "github.com/ti-mo/netfilter"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// tiMoFlow is the conversion the package made from ti-mo's flow before it
// had its own decoder: the reference the decoder must agree with.
func tiMoFlow(k *ct.Flow) conntrack.Flow {
	tuple := func(t ct.Tuple) conntrack.Tuple {
		return conntrack.Tuple{Src: t.IP.SourceAddress.Unmap(), Dst: t.IP.DestinationAddress.Unmap(),
			SrcPort: t.Proto.SourcePort, DstPort: t.Proto.DestinationPort}
	}
	f := conntrack.Flow{ID: k.ID, L4: k.TupleOrig.Proto.Protocol, Orig: tuple(k.TupleOrig), Reply: tuple(k.TupleReply),
		Status: conntrack.Status(k.Status), Helper: k.Helper.Name, Zone: k.Zone, Mark: k.Mark,
		Start: k.Timestamp.Start, Stop: k.Timestamp.Stop, TimeoutSecond: k.Timeout,
		CounterOrig:  conntrack.Counter{Packets: k.CountersOrig.Packets, Bytes: k.CountersOrig.Bytes},
		CounterReply: conntrack.Counter{Packets: k.CountersReply.Packets, Bytes: k.CountersReply.Bytes}}
	f.Counted = f.CounterOrig.Packets > 0 || f.CounterReply.Packets > 0
	return f
}

func tiMoType(t ct.Event) conntrack.EventType {
	switch t.Type {
	case ct.EventNew:
		return conntrack.EventNew
	case ct.EventUpdate:
		return conntrack.EventUpdate
	case ct.EventDestroy:
		return conntrack.EventDestroy
	}
	return 0
}

// agree decodes m with ours and with ti-mo. Where ti-mo decodes a flow
// without error, ours must too, with the same event type and fields; it
// returns ours (ok false when ti-mo did not decode a flow).
func agree(t *testing.T, m netlink.Message) (conntrack.EventType, conntrack.Flow, bool) {
	t.Helper()
	var ev ct.Event
	terr := ev.Unmarshal(m)
	et, got, err := conntrack.DecodeMessage(uint16(m.Header.Type), uint16(m.Header.Flags), m.Data)
	if terr != nil || ev.Flow == nil {
		return et, got, false
	}
	if err != nil {
		t.Fatalf("ours: %v; ti-mo decoded %+v", err, *ev.Flow)
	}
	want := tiMoFlow(ev.Flow)
	if et != tiMoType(ev) || !reflect.DeepEqual(got, want) {
		t.Fatalf("ours %v %+v\nti-mo %v %+v", et, got, tiMoType(ev), want)
	}
	return et, got, true
}

// ctSocket opens a ctnetlink socket in the router of l.
func ctSocket(t *testing.T, l *lab.Lab) *netlink.Conn {
	t.Helper()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: l.Router.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawDump reads the router's table as the kernel sends it; the request is
// built with ti-mo/netfilter.
func rawDump(t *testing.T, l *lab.Lab, family nf.ProtoFamily) []netlink.Message {
	t.Helper()
	req, err := nf.MarshalNetlink(nf.Header{SubsystemID: nf.NFSubsysCTNetlink, MessageType: 1,
		Family: family, Flags: netlink.Request | netlink.Dump}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ctSocket(t, l).Execute(req)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	return msgs
}

// TestDecodeAgreesWithTiMo: the events and dump entries of real passthrough
// traffic (UDP 500/4500 and 1701, ESP, PPTP's TCP 1723 with the pptp helper
// and its GRE keyed by call IDs, UDP 500 over IPv6), with accounting and
// timestamps on, decode to the same flows by ours and by ti-mo/conntrack.
func TestDecodeAgreesWithTiMo(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	l := lab.New(t, lab.Config{IPv6: true})
	ensureObserver(t, l) // its ct rules make the router track IPv6
	for _, s := range []string{"nf_conntrack_acct", "nf_conntrack_timestamp"} {
		if err := l.Router.Sysctl("net/netfilter/"+s, "1"); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := l.Router.Run("nft", pptpHelperRules); err != nil {
		t.Fatalf("assign the pptp helper: %v: %s", err, out)
	}
	ev := ctSocket(t, l)
	if err := ev.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	for _, g := range []uint32{unix.NFNLGRP_CONNTRACK_NEW, unix.NFNLGRP_CONNTRACK_UPDATE, unix.NFNLGRP_CONNTRACK_DESTROY} {
		if err := ev.JoinGroup(g); err != nil {
			t.Fatal(err)
		}
	}

	serveUDP(t, l, vpn.PortIKE, vpn.PortNATT, vpn.PortL2TP)
	for _, p := range []uint16{vpn.PortIKE, vpn.PortNATT, vpn.PortL2TP} {
		if !exchange(t, l, l.LAN, p) {
			t.Fatalf("UDP %d exchange failed", p)
		}
	}
	srv6 := netip.AddrPortFrom(lab.Server6, vpn.PortIKE)
	if _, err := l.Inet.ServeUDPEcho(srv6); err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 3; try++ { // the first may wait for neighbour discovery
		if _, _, err := lab.UDPExchange(l.LAN, srv6, []byte("x"), time.Second); err == nil {
			break
		}
	}
	sendESP(t, l)
	if got := pptpCall(t, &e2e{l: l}, 3); got != 3 {
		t.Fatalf("%d of 3 GRE echoes came back through the helper", got)
	}

	var msgs []netlink.Message
	msgs = append(msgs, rawDump(t, l, nf.ProtoIPv4)...)
	msgs = append(msgs, rawDump(t, l, nf.ProtoIPv6)...)
	// Deleting the table makes DESTROY events, the ones with counters.
	if err := l.Router.Do(func() error {
		_, err := conntrack.DeleteFootprints([]conntrack.FlowMatch{{L4: vpn.ProtoUDP, Port: vpn.PortIKE}, {L4: vpn.ProtoESP}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for {
		_ = ev.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		got, err := ev.Receive()
		if err != nil {
			break
		}
		msgs = append(msgs, got...)
	}
	checkAgreement(t, msgs)
}

// checkAgreement runs agree on every message and checks that the traffic
// covered what the decoder must get right.
func checkAgreement(t *testing.T, msgs []netlink.Message) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range msgs {
		et, f, ok := agree(t, m)
		if !ok {
			continue
		}
		seen["type "+et.String()] = true
		switch k := vpn.KindOf(f.L4, f.Orig.DstPort); {
		case k == vpn.KindIKE && f.Orig.Src.Is6():
			seen["ipv6"] = true
		case k != vpn.KindNone:
			seen[string(k)] = true
		}
		if f.L4 == vpn.ProtoGRE && f.Orig.SrcPort != 0 && f.Reply.SrcPort != 0 && f.Status.Expected() {
			seen["gre keys"] = true
		}
		if f.Helper == "pptp" {
			seen["helper"] = true
		}
		if f.Counted && f.CounterOrig.Bytes > 0 {
			seen["counters"] = true
		}
		if !f.Start.IsZero() && f.Start.Unix() > 0 {
			seen["timestamp"] = true
		}
		if f.ID != 0 && f.TimeoutSecond != 0 && f.Status.Assured() {
			seen["id, timeout, status"] = true
		}
	}
	t.Logf("%d messages, saw %v", len(msgs), seen)
	for _, w := range []string{"type new", "type update", "type destroy", "ipv6", "gre keys", "helper", "counters",
		"timestamp", "id, timeout, status", string(vpn.KindIKE), string(vpn.KindNATT), string(vpn.KindL2TP),
		string(vpn.KindESP), string(vpn.KindPPTP), string(vpn.KindGRE)} {
		if !seen[w] {
			t.Errorf("no decoded flow shows %s (%d messages; saw %v)", w, len(msgs), seen)
		}
	}
}

// TestEntryRequestMatchesTiMo: the get and delete requests are what
// ti-mo/netfilter's encoder builds from the same attributes.
func TestEntryRequestMatchesTiMo(t *testing.T) {
	for _, tc := range []struct {
		del      bool
		l4       uint8
		src, dst string
		zone     uint16
	}{
		{false, vpn.ProtoUDP, "192.168.1.10", "203.0.113.5", 0},
		{true, vpn.ProtoGRE, "192.168.1.10", "203.0.113.5", 7},
		{false, vpn.ProtoTCP, "fd00::10", "2001:db8::5", 0},
		{true, vpn.ProtoESP, "fd00::10", "2001:db8::5", 65535},
	} {
		tu := conntrack.Tuple{Src: netip.MustParseAddr(tc.src), Dst: netip.MustParseAddr(tc.dst), SrcPort: 40000, DstPort: 1723}
		got, typ, err := conntrack.EntryRequest(tc.del, tc.l4, tu, tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		fam, ipType := nf.ProtoIPv4, uint16(1)
		if tu.Src.Is6() {
			fam, ipType = nf.ProtoIPv6, 3
		}
		mt := nf.MessageType(1)
		if tc.del {
			mt = 2
		}
		attrs := []nf.Attribute{{Type: 1, Nested: true, Children: []nf.Attribute{
			{Type: 1, Nested: true, Children: []nf.Attribute{{Type: ipType, Data: tu.Src.AsSlice()}, {Type: ipType + 1, Data: tu.Dst.AsSlice()}}},
			{Type: 2, Nested: true, Children: []nf.Attribute{{Type: 1, Data: []byte{tc.l4}},
				{Type: 2, Data: nf.Uint16Bytes(tu.SrcPort)}, {Type: 3, Data: nf.Uint16Bytes(tu.DstPort)}}},
		}}}
		if tc.zone != 0 {
			attrs = append(attrs, nf.Attribute{Type: 18, Data: nf.Uint16Bytes(tc.zone)})
		}
		want, err := nf.MarshalNetlink(nf.Header{SubsystemID: nf.NFSubsysCTNetlink, MessageType: mt, Family: fam}, attrs)
		if err != nil {
			t.Fatal(err)
		}
		if typ != uint16(want.Header.Type) || !bytes.Equal(got, want.Data) {
			t.Errorf("%+v: type %#x %x, want %#x %x", tc, typ, got, uint16(want.Header.Type), want.Data)
		}
	}
}

// fullFlow is a flow message body with every attribute the decoder reads
// and some it skips, built with ti-mo/netfilter's encoder.
func fullFlow(tb testing.TB, src, dst string, l4 uint8, pad bool) []byte {
	tb.Helper()
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	ipType, fam := uint16(1), byte(unix.AF_INET)
	if s.Is6() {
		ipType, fam = 3, unix.AF_INET6
	}
	tuple := func(typ uint16, s, d netip.Addr, sp, dp uint16) nf.Attribute {
		return nf.Attribute{Type: typ, Nested: true, Children: []nf.Attribute{
			{Type: 1, Nested: true, Children: []nf.Attribute{{Type: ipType, Data: s.AsSlice()}, {Type: ipType + 1, Data: d.AsSlice()}}},
			{Type: 2, Nested: true, Children: []nf.Attribute{{Type: 1, Data: []byte{l4}},
				{Type: 2, Data: nf.Uint16Bytes(sp)}, {Type: 3, Data: nf.Uint16Bytes(dp)}}},
			{Type: 3, Data: nf.Uint16Bytes(0)}, // CTA_TUPLE_ZONE
		}}
	}
	counters := func(typ uint16, p, b uint64) nf.Attribute {
		return nf.Attribute{Type: typ, Nested: true, Children: []nf.Attribute{
			{Type: 1, Data: nf.Uint64Bytes(p)}, {Type: 2, Data: nf.Uint64Bytes(b)}, {Type: 5}}} // CTA_COUNTERS_PAD
	}
	ts := []nf.Attribute{{Type: 1, Data: nf.Uint64Bytes(1700000000123456789)}}
	if pad {
		ts = append(ts, nf.Attribute{Type: 3}) // CTA_TIMESTAMP_PAD, as a MIPS kernel may put it
	}
	attrs, err := nf.MarshalAttributes([]nf.Attribute{
		tuple(1, s, d, 40000, 1723), tuple(2, d, s, 1723, 40000),
		{Type: 3, Data: nf.Uint32Bytes(0x18e)}, {Type: 7, Data: nf.Uint32Bytes(7440)},
		{Type: 8, Data: nf.Uint32Bytes(0x40)}, {Type: 12, Data: nf.Uint32Bytes(99)},
		{Type: 11, Data: nf.Uint32Bytes(1)}, // CTA_USE
		{Type: 18, Data: nf.Uint16Bytes(3)},
		{Type: 5, Nested: true, Children: []nf.Attribute{{Type: 1, Data: []byte("pptp\x00")}}},
		{Type: 4, Nested: true, Children: []nf.Attribute{{Type: 1, Nested: true, Children: []nf.Attribute{
			{Type: 1, Data: []byte{3}}, {Type: 2, Data: []byte{7}}, {Type: 3, Data: []byte{7}}}}}}, // CTA_PROTOINFO_TCP
		counters(9, 5, 420), counters(10, 4, 380),
		{Type: 20, Nested: true, Children: ts},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return append([]byte{fam, 0, 0, 0}, attrs...)
}

// TestDecodeTimestampPad: a timestamp padded with CTA_TIMESTAMP_PAD (what
// a kernel without efficient unaligned access, MIPS, sends when the 64-bit
// value would be misaligned) decodes. ti-mo rejected the whole flow.
func TestDecodeTimestampPad(t *testing.T) {
	body := fullFlow(t, "192.168.1.10", "203.0.113.5", vpn.ProtoTCP, true)
	_, f, err := conntrack.DecodeMessage(unix.NFNL_SUBSYS_CTNETLINK<<8, 0, body)
	if err != nil || f.Start.UnixNano() != 1700000000123456789 || f.Helper != "pptp" || f.ID != 99 {
		t.Fatalf("decoded %+v, %v; want the flow with its start time", f, err)
	}
	var ev ct.Event
	if err := ev.Unmarshal(netlink.Message{Data: body, Header: netlink.Header{Type: unix.NFNL_SUBSYS_CTNETLINK << 8}}); err == nil {
		t.Fatal("ti-mo decodes a padded timestamp now: the comment above is stale")
	}
	m := netlink.Message{Data: fullFlow(t, "192.168.1.10", "203.0.113.5", vpn.ProtoTCP, false),
		Header: netlink.Header{Type: unix.NFNL_SUBSYS_CTNETLINK << 8}}
	if _, _, ok := agree(t, m); !ok {
		t.Fatal("ti-mo does not decode the unpadded flow: the fuzz seeds compare nothing")
	}
}

// FuzzDecodeFlow: any message decodes without a panic, and where ti-mo
// decodes a flow without error, ours yields the same.
func FuzzDecodeFlow(f *testing.F) {
	for _, fl := range []uint16{unix.NLM_F_CREATE, 0} {
		f.Add(uint8(0), fl, fullFlow(f, "192.168.1.10", "203.0.113.5", vpn.ProtoTCP, false))
		f.Add(uint8(0), fl, fullFlow(f, "fd00::10", "2001:db8::5", vpn.ProtoUDP, false))
	}
	f.Add(uint8(2), uint16(0), fullFlow(f, "192.168.1.10", "203.0.113.5", vpn.ProtoGRE, true))
	f.Add(uint8(1), uint16(0), fullFlow(f, "192.168.1.10", "203.0.113.5", vpn.ProtoESP, false))
	f.Add(uint8(0), uint16(0), []byte{2, 0, 0, 0, 0, 0, 1, 0, 4, 0})
	f.Fuzz(func(t *testing.T, typ uint8, flags uint16, data []byte) {
		m := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_CTNETLINK<<8 | uint16(typ)),
			Flags: netlink.HeaderFlags(flags)}, Data: data}
		agree(t, m)
	})
}

// BenchmarkDecodeFlow: one event's decode, ours against ti-mo's (which
// copies every attribute).
func BenchmarkDecodeFlow(b *testing.B) {
	m := netlink.Message{Data: fullFlow(b, "192.168.1.10", "203.0.113.5", vpn.ProtoTCP, false),
		Header: netlink.Header{Type: unix.NFNL_SUBSYS_CTNETLINK << 8}}
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := conntrack.DecodeMessage(uint16(m.Header.Type), 0, m.Data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ti-mo", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var ev ct.Event
			if err := ev.Unmarshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
