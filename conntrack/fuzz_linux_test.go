package conntrack

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	nf "github.com/ti-mo/netfilter"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/vpn"
)

// ctEvent is a ctnetlink event payload (nfgenmsg + attributes) built with
// the library's encoder: an IPv4 flow from src to dst:dport.
func ctEvent(tb testing.TB, l4 uint8, src, dst string, dport uint16) []byte {
	tb.Helper()
	ip := func(s string) []byte { return netip.MustParseAddr(s).AsSlice() }
	tuple := nf.Attribute{Type: ctaTupleOrig, Nested: true, Children: []nf.Attribute{
		{Type: ctaTupleIP, Nested: true, Children: []nf.Attribute{
			{Type: ctaIPv4Src, Data: ip(src)}, {Type: ctaIPv4Dst, Data: ip(dst)}}},
		{Type: ctaTupleProto, Nested: true, Children: []nf.Attribute{
			{Type: ctaProtoNum, Data: []byte{l4}},
			{Type: ctaProtoSrcPort, Data: nf.Uint16Bytes(40000)},
			{Type: ctaProtoDstPort, Data: nf.Uint16Bytes(dport)}}},
	}}
	attrs, err := nf.MarshalAttributes([]nf.Attribute{tuple, {Type: ctaStatus, Data: nf.Uint32Bytes(8)},
		{Type: ctaTimeout, Data: nf.Uint32Bytes(120)}, {Type: ctaID, Data: nf.Uint32Bytes(7)}})
	if err != nil {
		tb.Fatal(err)
	}
	return append([]byte{unix.AF_INET, 0, 0, 0}, attrs...)
}

// FuzzDeliverMessage: every message read from the ctnetlink event socket
// (the kernel's, and through it any flow another host makes) is counted
// once: decoded and delivered or ignored, or a decode error; never a panic.
func FuzzDeliverMessage(f *testing.F) {
	f.Add(uint8(0), uint16(unix.NLM_F_CREATE), ctEvent(f, 17, "192.168.1.10", "203.0.113.5", 500))
	f.Add(uint8(0), uint16(0), ctEvent(f, 6, "192.168.1.10", "203.0.113.5", 1723))
	f.Add(uint8(2), uint16(0), ctEvent(f, 17, "192.168.1.10", "203.0.113.5", 1701))
	f.Add(uint8(0), uint16(unix.NLM_F_CREATE), ctEvent(f, 6, "192.168.1.10", "203.0.113.5", 80))
	f.Add(uint8(0), uint16(0), []byte{})
	f.Fuzz(func(t *testing.T, typ uint8, flags uint16, data []byte) {
		w := NewWatcher(WatchConfig{})
		events := make(chan Event, 1)
		m := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(uint16(nf.NFSubsysCTNetlink)<<8 | uint16(typ)),
			Flags: netlink.HeaderFlags(flags)}, Data: data}
		if err := w.deliverMessage(context.Background(), m, events); err != nil {
			t.Fatalf("deliverMessage: %v", err)
		}
		s := w.Stats()
		if s.Received != 1 || s.Delivered+s.Ignored+s.DecodeErrors > 1 {
			t.Fatalf("counted %+v for one message", s)
		}
		if s.Delivered == 1 {
			ev := <-events
			if vpn.KindOf(ev.Flow.L4, ev.Flow.Orig.DstPort) == vpn.KindNone {
				t.Fatalf("delivered a flow outside the footprint: %+v", ev.Flow)
			}
		}
	})
}
