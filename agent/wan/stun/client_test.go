package stun

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/wan/netx"
)

// fakeServer answers each request on a loopback UDP socket with whatever
// reply returns (nil = stay silent). The counter tells how many requests came.
func fakeServer(t *testing.T, reply func(req []byte, from netip.AddrPort, n int) [][]byte) (string, *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	count := new(atomic.Int32)
	go func() {
		buf := make([]byte, 1500)
		for {
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			n := int(count.Add(1))
			ap := from.(*net.UDPAddr).AddrPort()
			for _, r := range reply(buf[:m], ap, n) {
				_, _ = pc.WriteTo(r, from)
			}
		}
	}()
	return pc.LocalAddr().String(), count
}

func reqID(req []byte) TxID { return TxID(req[8:20]) }

func success(req []byte, from netip.AddrPort) []byte {
	id := reqID(req)
	return encode(typeBindingSuccess, id, attr{attrXORMappedAddr, addrValue(from, true, id)})
}

var fast = Options{Timeout: 600 * time.Millisecond, RTO: 100 * time.Millisecond, Attempts: 3}

func TestQueryAnswered(t *testing.T) {
	srv, _ := fakeServer(t, func(req []byte, from netip.AddrPort, _ int) [][]byte {
		if _, err := Decode(append(req[:0:0], req...), TxID{}); !errors.Is(err, ErrNotResponse) {
			t.Errorf("request did not parse as a STUN request: %v", err)
		}
		return [][]byte{success(req, from)}
	})
	res, err := Query(context.Background(), srv, Options{Fingerprint: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mapped != res.Local {
		t.Errorf("mapped %v, want the local address %v (no NAT on loopback)", res.Mapped, res.Local)
	}
	if res.Server.String() != srv {
		t.Errorf("server %v, want %s", res.Server, srv)
	}
}

func TestQueryBadAnswers(t *testing.T) {
	tests := []struct {
		name    string
		reply   func(req []byte, from netip.AddrPort, n int) [][]byte
		wantErr func(error) bool
		what    string
	}{
		{"silent server", func([]byte, netip.AddrPort, int) [][]byte { return nil },
			func(err error) bool { var te *TimeoutError; return errors.As(err, &te) && te.Ignored == nil }, "a plain timeout"},
		{"wrong transaction ID", func(req []byte, from netip.AddrPort, _ int) [][]byte {
			bad := success(req, from)
			bad[8] ^= 0xff
			return [][]byte{bad}
		}, func(err error) bool {
			var te *TimeoutError
			return errors.As(err, &te) && errors.Is(err, ErrTransaction)
		}, "a timeout naming the transaction ID"},
		{"truncated attributes", func(req []byte, from netip.AddrPort, _ int) [][]byte {
			return [][]byte{truncate(success(req, from), 4)}
		}, func(err error) bool { return errors.Is(err, ErrTruncated) }, "a timeout naming the truncation"},
		{"garbage", func([]byte, netip.AddrPort, int) [][]byte {
			return [][]byte{[]byte("HTTP/1.1 400 Bad Request\r\n\r\n")}
		},
			func(err error) bool { return errors.Is(err, ErrNotSTUN) }, "a timeout naming non-STUN data"},
		{"error response", func(req []byte, _ netip.AddrPort, _ int) [][]byte {
			return [][]byte{encode(typeBindingError, reqID(req), attr{attrErrorCode, []byte{0, 0, 5, 0, 'b', 'u', 's', 'y'}})}
		}, func(err error) bool { var er *ErrorResponse; return errors.As(err, &er) && er.Code == 500 }, "the server's error 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeServer(t, tc.reply)
			res, err := Query(context.Background(), srv, fast)
			if !tc.wantErr(err) {
				t.Fatalf("got %+v, %v; want %s", res, err, tc.what)
			}
		})
	}
}

// A bad answer followed by a good one must not end the exchange early.
func TestQueryIgnoresBadThenAccepts(t *testing.T) {
	srv, _ := fakeServer(t, func(req []byte, from netip.AddrPort, _ int) [][]byte {
		wrong := success(req, from)
		wrong[19] ^= 1
		return [][]byte{wrong, truncate(success(req, from), 4), success(req, from)}
	})
	res, err := Query(context.Background(), srv, fast)
	if err != nil || res.Mapped != res.Local {
		t.Fatalf("got %+v, %v", res, err)
	}
}

// Lost requests are sent again; the answer to a retransmission counts.
func TestQueryRetransmits(t *testing.T) {
	srv, count := fakeServer(t, func(req []byte, from netip.AddrPort, n int) [][]byte {
		if n < 3 {
			return nil
		}
		return [][]byte{success(req, from)}
	})
	opt := fast
	opt.Timeout = 2 * time.Second
	if _, err := Query(context.Background(), srv, opt); err != nil {
		t.Fatal(err)
	}
	if n := count.Load(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestQueryCancelled(t *testing.T) {
	srv, _ := fakeServer(t, func([]byte, netip.AddrPort, int) [][]byte { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Query(ctx, srv, Options{Timeout: 5 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestQueryBadServer(t *testing.T) {
	for _, s := range []string{"", "[::1", "127.0.0.1:99999"} {
		if _, err := Query(context.Background(), s, fast); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

// A server given by name is resolved (here through /etc/hosts).
func TestQueryByName(t *testing.T) {
	if a, err := netx.LookupIPv4(context.Background(), "localhost"); err != nil || a != netip.MustParseAddr("127.0.0.1") {
		t.Skipf("localhost is %v, %v here", a, err)
	}
	srv, _ := fakeServer(t, func(req []byte, from netip.AddrPort, _ int) [][]byte { return [][]byte{success(req, from)} })
	_, port, _ := net.SplitHostPort(srv)
	res, err := Query(context.Background(), "localhost:"+port, fast)
	if err != nil {
		t.Fatal(err)
	}
	if res.Server.String() != srv {
		t.Errorf("server %v, want %s", res.Server, srv)
	}
	if _, err := Query(context.Background(), "localhost:0", fast); err == nil {
		t.Error("port 0: no error")
	}
}
