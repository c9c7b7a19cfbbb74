package vmtest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// wrongEndianEnv is the test-only toggle: when "1", the ct state mask is
// encoded little-endian whatever the kernel's byte order.
const wrongEndianEnv = "VPNPASS_WRONG_ENDIAN"

// ctStateMask encodes a ct state bit set the way the kernel reads it: in host
// byte order. wrong forces little-endian to demonstrate the bug.
func ctStateMask(bits uint32, wrong bool) []byte {
	if wrong {
		return binary.LittleEndian.AppendUint32(nil, bits)
	}
	return binaryutil.NativeEndian.PutUint32(bits)
}

// TestCtStateMaskByteOrder installs `ct state <state> counter` rules in the
// output chain of a fresh namespace, sends TCP over its loopback and checks
// each counter rose: a mask in the wrong byte order matches nothing.
func TestCtStateMaskByteOrder(t *testing.T) {
	lab.Require(t)
	wrong := os.Getenv(wrongEndianEnv) == "1"
	states := []struct {
		name string
		bit  uint32
	}{
		{"new", expr.CtStateBitNEW},
		{"established", expr.CtStateBitESTABLISHED},
	}
	var bits []uint32
	for _, s := range states {
		bits = append(bits, s.bit)
	}
	counts, err := inFreshNetns(func(ns netns.NsHandle) ([]uint64, error) {
		return countCtStates(ns, bits, wrong)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(states) {
		t.Fatalf("read back %d counters, want %d", len(counts), len(states))
	}
	for i, s := range states {
		t.Run(s.name, func(t *testing.T) {
			if counts[i] == 0 {
				t.Errorf("ct state %s counter stayed 0 after TCP traffic (mask % x, wrong byte order toggle %v, %s)",
					s.name, ctStateMask(s.bit, wrong), wrong, runtime.GOARCH)
			}
		})
	}
}

// inFreshNetns runs fn on a locked OS thread moved into a new network
// namespace. The thread is never unlocked, so Go discards it afterwards
// instead of reusing a thread that lives in the wrong namespace.
func inFreshNetns[T any](fn func(netns.NsHandle) (T, error)) (T, error) {
	type out struct {
		v   T
		err error
	}
	ch := make(chan out, 1)
	go func() {
		runtime.LockOSThread()
		var o out
		ns, err := netns.New()
		if err != nil {
			o.err = fmt.Errorf("create netns: %w", err)
			ch <- o
			return
		}
		defer ns.Close()
		o.v, o.err = fn(ns)
		ch <- o
	}()
	o := <-ch
	return o.v, o.err
}

func countCtStates(ns netns.NsHandle, bits []uint32, wrong bool) ([]uint64, error) {
	if err := loopbackUp(ns); err != nil {
		return nil, err
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	table := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "vpnpass_vmtest"})
	chain := c.AddChain(&nftables.Chain{
		Name: "out", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter,
	})
	for _, b := range bits {
		c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: ctStateCounter(b, wrong)})
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("add ct state rules: %w", err)
	}
	if err := tcpRoundTrip(); err != nil {
		return nil, err
	}
	return readCounters(c, table, chain)
}

// ctStateCounter is `ct state <bit> counter`: ct state & mask != 0.
func ctStateCounter(bit uint32, wrong bool) []expr.Any {
	zero := make([]byte, 4)
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ctStateMask(bit, wrong), Xor: zero},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: zero},
		&expr.Counter{},
	}
}

func loopbackUp(ns netns.NsHandle) error {
	// Route family only: the default set includes XFRM, which a router
	// without IPsec modules (and Debian's guest kernels) does not have.
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink handle: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// tcpRoundTrip opens a TCP connection over loopback (the calling thread's
// namespace), echoes a message and closes: NEW and ESTABLISHED packets.
func tcpRoundTrip() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = io.Copy(conn, conn)
	}()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	msg := []byte("vpnpass byte order probe")
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(conn, make([]byte, len(msg))); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	return nil
}

func readCounters(c *nftables.Conn, table *nftables.Table, chain *nftables.Chain) ([]uint64, error) {
	rules, err := c.GetRules(table, chain)
	if err != nil {
		return nil, fmt.Errorf("read back rules: %w", err)
	}
	var counts []uint64
	for _, r := range rules {
		for _, e := range r.Exprs {
			if ctr, ok := e.(*expr.Counter); ok {
				counts = append(counts, ctr.Packets)
			}
		}
	}
	return counts, nil
}
