package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Lab is one built topology. Close (registered with t.Cleanup by New)
// removes all of it.
type Lab struct {
	Config Config
	// Name is the prefix shared by this lab's namespaces ("vp1234-ab12").
	Name string

	LAN, LAN2, Router, Inet *Node
	// ISP is the upstream NAT; nil in Single.
	ISP *Node

	// WANDevice is the router's WAN device ("eth1" unless configured).
	WANDevice string
	// RouterWAN is the router's WAN address and prefix; Gateway its
	// default gateway (inet in Single, isp otherwise).
	RouterWAN netip.Prefix
	Gateway   netip.Addr
	// PublicAddr is the source address servers see for NATed LAN traffic.
	PublicAddr netip.Addr
	// RouterWAN6 and Gateway6 are set with Config.IPv6.
	RouterWAN6 netip.Prefix
	Gateway6   netip.Addr

	tmpDir    string
	fw4File   string
	closeOnce sync.Once
	closeErr  error
	logs      []string
}

var sweepOnce sync.Once

// New builds the lab for a test: it skips (or fails under CI=true) when
// namespaces or the tools a firewall option needs are unavailable, fails
// the test if building fails, and registers Close with t.Cleanup, so a test
// that fails midway still removes everything. The first New of a process
// also sweeps away what dead labs left (Sweep).
func New(t testing.TB, cfg Config) *Lab {
	t.Helper()
	Require(t)
	RequireTools(t, cfg.Firewalls...)
	sweepOnce.Do(func() {
		// Leftovers of test binaries killed by a timeout or a signal.
		if removed, err := Sweep(); len(removed) > 0 || err != nil {
			t.Logf("lab: removed namespaces of dead labs %v (%v)", removed, err)
		}
	})
	l, err := Build(cfg)
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() {
		err := l.Close()
		if t.Failed() {
			for _, s := range l.logs {
				t.Logf("process output: %s", s)
			}
		}
		if err != nil {
			t.Errorf("close lab %s: %v", l.Name, err)
		}
	})
	return l
}

// Build creates the namespaces, links, addresses, routes and firewalls of
// cfg. On error everything created so far is removed. The caller must Close
// the lab.
func Build(cfg Config) (l *Lab, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l = &Lab{Config: cfg, Name: newLabName(), WANDevice: cfg.wanDevice()}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.Close())
			l = nil
		}
	}()
	if l.tmpDir, err = os.MkdirTemp("", l.Name+"-"); err != nil {
		return l, fmt.Errorf("temp dir: %w", err)
	}
	if err = l.addNodes(); err != nil {
		return l, err
	}
	if err = l.wire(); err != nil {
		return l, err
	}
	if err = l.loadFirewalls(); err != nil {
		return l, err
	}
	return l, nil
}

func newLabName() string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%d-%s", NamePrefix, os.Getpid(), hex.EncodeToString(b[:]))
}

// Nodes returns the lab's nodes, LAN side first.
func (l *Lab) Nodes() []*Node {
	var out []*Node
	for _, n := range []*Node{l.LAN, l.LAN2, l.Router, l.ISP, l.Inet} {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Namespaces returns the names of the lab's namespaces.
func (l *Lab) Namespaces() []string {
	var out []string
	for _, n := range l.Nodes() {
		out = append(out, n.NS)
	}
	return out
}

func (l *Lab) addNodes() error {
	roles := []struct {
		role string
		dst  **Node
	}{{RoleLAN, &l.LAN}, {RoleLAN2, &l.LAN2}, {RoleRouter, &l.Router}, {RoleInet, &l.Inet}}
	if l.Config.Topology != Single {
		roles = append(roles, struct {
			role string
			dst  **Node
		}{RoleISP, &l.ISP})
	}
	for _, r := range roles {
		n, err := newNode(l.Name+"-"+r.role, r.role)
		if err != nil {
			return err
		}
		*r.dst = n
		if err := noDAD(n); err != nil {
			return err
		}
	}
	return nil
}

// noDAD turns off IPv6 duplicate address detection for every link created
// later in the namespace. The lab's global addresses carry nodad, but link-
// local ones would stay tentative for a second or more, and until then
// neighbour discovery on a fresh link can lose the first packets.
func noDAD(n *Node) error {
	for _, k := range []string{"net/ipv6/conf/default/accept_dad", "net/ipv6/conf/all/accept_dad"} {
		if err := n.Sysctl(k, "0"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// newNode creates a named namespace from a locked thread and brings the
// thread back to where it was; if that fails the thread stays locked and
// dies with its goroutine.
func newNode(name, role string) (*Node, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("get current netns: %w", err)}
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if err != nil {
			// NewNamed may have switched the thread before failing.
			if serr := netns.Set(orig); serr == nil {
				runtime.UnlockOSThread()
			}
			ch <- result{err: fmt.Errorf("create netns %s: %w", name, err)}
			return
		}
		if err := netns.Set(orig); err != nil {
			ch <- result{h: h, err: fmt.Errorf("leave netns %s: %w", name, err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{h: h}
	}()
	r := <-ch
	if r.err != nil {
		if r.h.IsOpen() {
			r.h.Close()
			_ = netns.DeleteNamed(name)
		}
		return nil, r.err
	}
	n := &Node{Role: role, NS: name, handle: r.h}
	// Route family only: a kernel without XFRM (minimal VMs) would refuse
	// the default set of netlink families.
	nl, err := netlink.NewHandleAt(r.h, unix.NETLINK_ROUTE)
	if err != nil {
		r.h.Close()
		_ = netns.DeleteNamed(name)
		return nil, fmt.Errorf("netlink handle in %s: %w", name, err)
	}
	n.nl = nl
	return n, nil
}

// Close kills the lab's processes, closes its sockets and removes its
// namespaces and temporary files. It is safe to call more than once.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Lab) close() error {
	var errs []error
	nodes := l.Nodes()
	for _, n := range nodes {
		logs, e := n.killAll()
		l.logs = append(l.logs, logs...)
		errs = append(errs, e...)
	}
	for _, n := range nodes {
		if n.nl != nil {
			n.nl.Close()
		}
		n.handle.Close()
		if err := netns.DeleteNamed(n.NS); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("delete netns %s: %w", n.NS, err))
		}
	}
	if l.tmpDir != "" {
		if err := os.RemoveAll(l.tmpDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Describe is a one-line picture of the lab for logs and the demo, e.g.
// "lan 192.168.1.10 — router (fw4, locked down) — isp NAT 192.168.0.1 —
// internet 203.0.113.10".
func (l *Lab) Describe() string {
	var fws []string
	for _, f := range l.Config.Firewalls {
		fws = append(fws, f.Describe())
	}
	if len(fws) == 0 {
		fws = []string{FirewallNone.Describe()}
	}
	parts := []string{
		fmt.Sprintf("lan %s", LANHost),
		fmt.Sprintf("router (%s; WAN %s %s)", strings.Join(fws, " + "), l.WANDevice, l.RouterWAN.Addr()),
	}
	switch l.Config.Topology {
	case Double:
		parts = append(parts, fmt.Sprintf("isp NAT %s → %s", l.Gateway, l.PublicAddr))
	case CGNAT:
		parts = append(parts, fmt.Sprintf("carrier-grade NAT %s → %s", l.Gateway, l.PublicAddr))
	}
	parts = append(parts, fmt.Sprintf("internet %s", Server))
	return strings.Join(parts, " — ")
}
