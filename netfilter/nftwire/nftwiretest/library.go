// Package nftwiretest holds test support shared by the packages that hold
// nftwire's encoder to google/nftables: what the library would send.
// Only tests import it (the library's Conn writers must stay out of the
// release binary: build/sizerules).
package nftwiretest

import (
	"bytes"
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
)

// LibraryMessages returns the messages google/nftables sends for what
// queue queues, batch framing included, without a kernel (a test dial that
// acknowledges everything).
func LibraryMessages(t testing.TB, queue func(c *nftables.Conn)) []netlink.Message {
	t.Helper()
	var sent []netlink.Message
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		if req != nil {
			sent = append(sent, req...)
			return nil, nil
		}
		return []netlink.Message{{Header: netlink.Header{Type: netlink.Error}, Data: make([]byte, 20)}}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	queue(c)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	return sent
}

// SameMessages fails t unless got has want's messages: type, flags and
// data (sequence numbers and the port are the socket's business).
func SameMessages(t testing.TB, got, want []netlink.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d messages, the library sends %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Header.Type != w.Header.Type || g.Header.Flags != w.Header.Flags || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("message %d:\n got  %v %v % x\n want %v %v % x", i, g.Header.Type, g.Header.Flags, g.Data,
				w.Header.Type, w.Header.Flags, w.Data)
		}
	}
}
