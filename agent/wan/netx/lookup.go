package netx

import (
	"context"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/internal/lines"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// Resolver finds the IPv4 address of a host name the way the C library
// does on OpenWrt: the hosts file first, then the nameservers of
// resolv.conf (search domains applied), over UDP. Only A records are asked
// for. The zero value reads the system files.
type Resolver struct {
	Hosts      string        // default /etc/hosts
	ResolvConf string        // default /etc/resolv.conf
	Port       uint16        // nameserver port, default 53
	Timeout    time.Duration // wait for one answer, default 1 s (two rounds over the servers)
}

// ErrNotFound means the name has no IPv4 address.
var ErrNotFound = errors.New("no IPv4 address found")

// LookupIPv4 resolves host with the system files; an IP literal is returned
// as is (IPv4 only).
func LookupIPv4(ctx context.Context, host string) (netip.Addr, error) {
	return Resolver{}.LookupIPv4(ctx, host)
}

// LookupIPv4 returns the first IPv4 address of host. Errors read
// "lookup <host>: ..." like net's.
func (r Resolver) LookupIPv4(ctx context.Context, host string) (netip.Addr, error) {
	a, err := r.lookup(ctx, host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("lookup %s: %w", host, err)
	}
	return a, nil
}

func (r *Resolver) lookup(ctx context.Context, host string) (none netip.Addr, _ error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if a = a.Unmap(); !a.Is4() {
			return none, ErrNotFound
		}
		return a, nil
	}
	if a, ok := r.fromHosts(host); ok {
		return a, nil
	}
	conf := r.readConf()
	var err error
	for _, name := range conf.candidates(host) {
		msg, id, qerr := newQuery(name)
		if qerr != nil {
			return none, qerr
		}
		var a netip.Addr
		if a, err = r.ask(ctx, conf.servers, msg, id); err == nil {
			return a, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return none, err
		}
	}
	return none, err
}

// fromHosts looks host up in the hosts file (names are case-insensitive).
func (r *Resolver) fromHosts(host string) (none netip.Addr, _ bool) {
	f, err := os.Open(or(r.Hosts, "/etc/hosts"))
	if err != nil {
		return none, false
	}
	// No defer (smaller code): see exchange.
	host = strings.TrimSuffix(host, ".")
	var found netip.Addr
	_ = lines.Each(f, func(l string) {
		line, _, _ := strings.Cut(l, "#")
		fields := strings.Fields(line)
		if found.IsValid() || len(fields) < 2 {
			return
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil || !a.Unmap().Is4() {
			return
		}
		for _, name := range fields[1:] {
			if strings.EqualFold(strings.TrimSuffix(name, "."), host) {
				found = a.Unmap()
				return
			}
		}
	})
	f.Close()
	return found, found.IsValid()
}

type resolvConf struct {
	servers []netip.AddrPort
	search  []string
}

// readConf reads nameserver and search/domain lines. Without nameservers it
// asks the local host, as the C library and Go do.
func (r *Resolver) readConf() resolvConf {
	var c resolvConf
	port := r.Port
	if port == 0 {
		port = 53
	}
	if f, err := os.Open(or(r.ResolvConf, "/etc/resolv.conf")); err == nil {
		_ = lines.Each(f, func(l string) {
			f := strings.Fields(l)
			if len(f) < 2 {
				return
			}
			switch f[0] {
			case "nameserver":
				if a, err := netip.ParseAddr(f[1]); err == nil {
					c.servers = append(c.servers, netip.AddrPortFrom(a, port))
				}
			case "search", "domain": // the last one wins
				c.search = f[1:]
			}
		})
		f.Close()
	}
	if len(c.servers) == 0 {
		c.servers = []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
			netip.AddrPortFrom(netip.IPv6Loopback(), port)}
	}
	return c
}

// candidates lists the names to ask for: a name with a dot as is, then with
// the search domains; a single label with the search domains first; a name
// ending in a dot only as is.
func (c resolvConf) candidates(host string) []string {
	if strings.HasSuffix(host, ".") {
		return []string{host}
	}
	var out []string
	for _, s := range c.search {
		slicex.Strings(&out, host+"."+strings.TrimSuffix(s, "."))
	}
	if strings.Contains(host, ".") {
		return append([]string{host}, out...)
	}
	return append(out, host)
}

// ask sends the query to each server in turn, twice round, and returns the
// first A record of the first real answer. A server that fails (timeout,
// SERVFAIL, unreachable) hands over to the next; "no such name" and "no A
// record" are answers and end the search with ErrNotFound.
func (r *Resolver) ask(ctx context.Context, servers []netip.AddrPort, msg []byte, id uint16) (none netip.Addr, _ error) {
	wait := r.Timeout
	if wait <= 0 {
		wait = time.Second
	}
	var last error
	for round := 0; round < 2; round++ {
		for _, srv := range servers {
			a, err := exchange(ctx, srv, msg, id, wait)
			if err == nil || errors.Is(err, ErrNotFound) {
				return a, err
			}
			if ctx.Err() != nil {
				return none, ctx.Err()
			}
			last = fmt.Errorf("nameserver %v: %w", srv, err)
		}
	}
	return none, last
}

// exchange sends msg to one server and waits up to wait for a matching
// answer; datagrams that are not one (wrong ID or question) are skipped.
func exchange(ctx context.Context, srv netip.AddrPort, msg []byte, id uint16, wait time.Duration) (none netip.Addr, _ error) {
	c, err := sock.DialUDP(srv)
	if err != nil {
		return none, err
	}
	dl := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = c.SetReadDeadline(dl)
	// No defers (smaller code): the agent resolves only on wan.RunProbes'
	// goroutines (STUN), where a panic ends the process.
	stop := c.ReadsEndWith(ctx)
	a, err := sendAndRead(c, msg, id)
	stop()
	c.Close()
	return a, err
}

// sendAndRead sends msg on c and reads until the answer to it.
func sendAndRead(c *sock.Conn, msg []byte, id uint16) (none netip.Addr, _ error) {
	if _, err := c.Write(msg); err != nil {
		return none, err
	}
	buf := make([]byte, 1232)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return none, err
		}
		a, err := parseAnswer(buf[:n], msg, id)
		if errors.Is(err, errNotOurs) {
			continue
		}
		return a, err
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newID draws a query ID (math/rand/v2 is seeded from the OS; crypto/rand
// would link Go's FIPS module).
func newID() uint16 { return uint16(rand.Uint32()) }
