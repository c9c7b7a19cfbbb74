package sock

import (
	"net"
	"testing"
)

// SplitHostPort and JoinHostPort must agree with net's on every input.
func TestHostPortMatchesNet(t *testing.T) {
	for _, s := range []string{
		"", ":", "a", "a:", ":80", "a:80", "a:b:80", "[::1]:80", "[::1]", "[::1]80", "[::1]:80:1",
		"[fe80::1%eth0]:53", "[a]:b]:80", "a]:80", "[a:80", "[[a]]:80", "[a]:[80", "[a]:80]", "[]:0",
		"1.2.3.4:65535", "host.example:53",
	} {
		h, p, ok := SplitHostPort(s)
		nh, np, err := net.SplitHostPort(s)
		if ok != (err == nil) || h != nh || p != np {
			t.Errorf("%q: got %q %q %v; net %q %q %v", s, h, p, ok, nh, np, err)
		}
		if err == nil && JoinHostPort(h, p) != net.JoinHostPort(h, p) {
			t.Errorf("join %q %q: %q, net %q", h, p, JoinHostPort(h, p), net.JoinHostPort(h, p))
		}
	}
}

func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"a:80", "[::1]:80", "[a]:b]:80", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, p, ok := SplitHostPort(s)
		nh, np, err := net.SplitHostPort(s)
		if ok != (err == nil) || h != nh || p != np {
			t.Errorf("%q: got %q %q %v; net %q %q %v", s, h, p, ok, nh, np, err)
		}
	})
}
