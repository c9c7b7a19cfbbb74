package netx

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// zone is what a fake nameserver knows: A and CNAME records by lower-case
// FQDN; names in servfail make it answer SERVFAIL.
type zone struct {
	a     map[string][]string
	cname map[string]string
	aaaa  map[string]bool // names with only an AAAA record
}

// reply builds the answer to req with x/net's dnsmessage (compressed names),
// independent of the code under test.
func (z zone) reply(req []byte, rcode dnsmessage.RCode) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: true, RCode: rcode})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	name := strings.ToLower(q.Name.String())
	hdr := func(n string, t dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(n), Type: t, Class: dnsmessage.ClassINET, TTL: 60}
	}
	found := false
	for rcode == dnsmessage.RCodeSuccess {
		if target, ok := z.cname[name]; ok {
			_ = b.CNAMEResource(hdr(name, dnsmessage.TypeCNAME), dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)})
			name, found = target, true
			continue
		}
		for _, a := range z.a[name] {
			_ = b.AResource(hdr(name, dnsmessage.TypeA), dnsmessage.AResource{A: netip.MustParseAddr(a).As4()})
			found = true
		}
		if z.aaaa[name] {
			_ = b.AAAAResource(hdr(name, dnsmessage.TypeAAAA), dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("2001:db8::1").As16()})
			found = true
		}
		break
	}
	out, _ := b.Finish()
	if !found && rcode == dnsmessage.RCodeSuccess {
		out[3] |= byte(dnsmessage.RCodeNameError) // NXDOMAIN
	}
	return out
}

// nameserver serves z on addr (port 0 = any) with behave deciding per
// request: return the datagrams to send back.
type nameserver struct {
	pc   net.PacketConn
	mu   sync.Mutex
	asks []string // question names in arrival order
}

func serve(t *testing.T, addr string, behave func(req []byte) [][]byte) *nameserver {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	ns := &nameserver{pc: pc}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			if _, err := p.Start(buf[:n]); err == nil {
				if q, err := p.Question(); err == nil {
					ns.mu.Lock()
					ns.asks = append(ns.asks, strings.ToLower(q.Name.String()))
					ns.mu.Unlock()
				}
			}
			for _, r := range behave(append([]byte(nil), buf[:n]...)) {
				_, _ = pc.WriteTo(r, from)
			}
		}
	}()
	return ns
}

func (ns *nameserver) port() uint16 { return uint16(ns.pc.LocalAddr().(*net.UDPAddr).Port) }

func (ns *nameserver) asked() []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.asks...)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var testZone = zone{
	a: map[string][]string{
		"stun.example.net.": {"198.51.100.7", "198.51.100.8"},
		"real.example.org.": {"203.0.113.5"},
		"stunbox.lan.":      {"192.168.1.20"},
	},
	cname: map[string]string{"alias.example.net.": "mid.example.net.", "mid.example.net.": "real.example.org."},
	aaaa:  map[string]bool{"v6only.example.net.": true},
}

const hostsText = `# comment line
127.0.0.1 localhost
::1 localhost ip6-localhost
192.0.2.44 Router.Example.  router # trailing comment
2001:db8::9 v6host
`

func TestLookupIPv4(t *testing.T) {
	ns := serve(t, "127.0.0.1:0", func(req []byte) [][]byte { return [][]byte{testZone.reply(req, dnsmessage.RCodeSuccess)} })
	r := Resolver{
		Hosts:      writeFile(t, "hosts", hostsText),
		ResolvConf: writeFile(t, "resolv.conf", "search lan\nnameserver 127.0.0.1\noptions ndots:1\n"),
		Port:       ns.port(),
		Timeout:    500 * time.Millisecond,
	}
	tests := []struct {
		host    string
		want    string // "" = ErrNotFound
		dns     bool   // resolved through the nameserver (cross-checked with Go's resolver)
		askedAs []string
	}{
		{"192.0.2.7", "192.0.2.7", false, nil},
		{"::ffff:192.0.2.8", "192.0.2.8", false, nil},
		{"2001:db8::1", "", false, nil},
		{"router", "192.0.2.44", false, nil},
		{"ROUTER.example", "192.0.2.44", false, nil},
		{"localhost", "127.0.0.1", false, nil},
		{"v6host", "", true, []string{"v6host.lan.", "v6host."}},
		{"stun.example.net", "198.51.100.7", true, []string{"stun.example.net."}},
		{"STUN.Example.NET.", "198.51.100.7", true, []string{"stun.example.net."}},
		{"alias.example.net", "203.0.113.5", true, []string{"alias.example.net."}},
		{"v6only.example.net", "", true, []string{"v6only.example.net.", "v6only.example.net.lan."}},
		{"missing.example.net", "", true, []string{"missing.example.net.", "missing.example.net.lan."}},
		{"stunbox", "192.168.1.20", true, []string{"stunbox.lan."}},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			before := len(ns.asked())
			got, err := r.LookupIPv4(context.Background(), tc.host)
			if tc.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("got %v, %v; want ErrNotFound", got, err)
				}
			} else if err != nil || got != netip.MustParseAddr(tc.want) {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
			if asked := ns.asked()[before:]; strings.Join(asked, " ") != strings.Join(tc.askedAs, " ") {
				t.Errorf("nameserver asked for %q, want %q", asked, tc.askedAs)
			}
			if tc.dns {
				crossCheck(t, ns, tc.host, tc.want)
			}
		})
	}
}

// crossCheck resolves host with Go's own resolver against the same fake
// nameserver: both must find the same first address, or both nothing.
func crossCheck(t *testing.T, ns *nameserver, host, want string) {
	t.Helper()
	if !strings.Contains(host, ".") {
		return // Go's resolver would use the system's search list
	}
	goRes := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", ns.pc.LocalAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := goRes.LookupNetIP(ctx, "ip4", strings.TrimSuffix(host, ".")+".")
	switch {
	case want == "" && err == nil:
		t.Errorf("Go's resolver found %v, ours nothing", addrs)
	case want != "" && (err != nil || addrs[0] != netip.MustParseAddr(want)):
		t.Errorf("Go's resolver: %v, %v; ours %s", addrs, err, want)
	}
}

func TestLookupFailover(t *testing.T) {
	// Two nameservers on the same port: the first fails, the second answers.
	first := serve(t, "127.0.0.1:0", func(req []byte) [][]byte {
		return [][]byte{testZone.reply(req, dnsmessage.RCodeServerFailure)}
	})
	port := first.port()
	second := serve(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), port).String(), func(req []byte) [][]byte {
		bad := testZone.reply(req, dnsmessage.RCodeSuccess)
		bad[1] ^= 0xff // wrong ID first: skipped
		garbage := []byte("not dns")
		return [][]byte{bad, garbage, testZone.reply(req, dnsmessage.RCodeSuccess)}
	})
	r := Resolver{Hosts: writeFile(t, "hosts", ""), ResolvConf: writeFile(t, "resolv.conf", "nameserver 127.0.0.1\nnameserver 127.0.0.2\n"),
		Port: port, Timeout: 300 * time.Millisecond}
	got, err := r.LookupIPv4(context.Background(), "real.example.org")
	if err != nil || got != netip.MustParseAddr("203.0.113.5") {
		t.Fatalf("got %v, %v", got, err)
	}
	if len(first.asked()) != 1 || len(second.asked()) != 1 {
		t.Errorf("asked first %d, second %d times; want once each", len(first.asked()), len(second.asked()))
	}
}

func TestLookupSilent(t *testing.T) {
	ns := serve(t, "127.0.0.1:0", func([]byte) [][]byte { return nil })
	r := Resolver{Hosts: writeFile(t, "hosts", ""), ResolvConf: writeFile(t, "resolv.conf", "nameserver 127.0.0.1\n"),
		Port: ns.port(), Timeout: 100 * time.Millisecond}
	_, err := r.LookupIPv4(context.Background(), "stun.example.net")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout", err)
	}
	if n := len(ns.asked()); n != 2 {
		t.Errorf("asked %d times, want 2 (two rounds)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r.Timeout = 5 * time.Second
	if _, err := r.LookupIPv4(ctx, "stun.example.net"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
}

func TestNewQueryRejects(t *testing.T) {
	for _, name := range []string{"", ".", "a..b", strings.Repeat("x", 64) + ".net", strings.Repeat("abcdefg.", 32) + "net"} {
		if _, _, err := newQuery(name); err == nil {
			t.Errorf("%q: no error", name)
		}
	}
}

// parseAnswer must not panic or read out of bounds on any input.
func FuzzParseAnswer(f *testing.F) {
	q, id, _ := newQuery("stun.example.net")
	f.Add(testZone.reply(q, dnsmessage.RCodeSuccess))
	f.Add(testZone.reply(q, dnsmessage.RCodeNameError))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, resp []byte) {
		if len(resp) >= 2 {
			resp[0], resp[1] = byte(id>>8), byte(id) // reach past the ID check
		}
		_, _ = parseAnswer(resp, q, id)
	})
}
