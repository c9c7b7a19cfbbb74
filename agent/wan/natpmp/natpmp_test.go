package natpmp

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/internal/sock"
)

func reply(code uint16, epoch uint32, ext string) []byte {
	b := []byte{0, opReply}
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint32(b, epoch)
	a := netip.MustParseAddr(ext).As4()
	return append(b, a[:]...)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		want    string
		errText string
	}{
		{"ok", reply(0, 77, "198.51.100.2"), "198.51.100.2", ""},
		{"longer answer accepted", append(reply(0, 1, "203.0.113.5"), 0, 0), "203.0.113.5", ""},
		{"refused", reply(2, 1, "0.0.0.0"), "", "not authorized"},
		{"no external address", reply(3, 1, "0.0.0.0"), "", "network failure"},
		{"unknown code", reply(99, 1, "0.0.0.0"), "", "result 99"},
		{"short", reply(0, 1, "198.51.100.2")[:11], "", "11 bytes"},
		{"pcp version", append([]byte{2}, reply(0, 1, "198.51.100.2")[1:]...), "", "version 2"},
		{"wrong opcode", append([]byte{0, 129}, reply(0, 1, "198.51.100.2")[2:]...), "", "opcode 129"},
		{"empty", nil, "", "0 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Decode(tc.msg)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("got %+v, %v; want error containing %q", res, err, tc.errText)
				}
				return
			}
			if err != nil || res.External.String() != tc.want {
				t.Fatalf("got %+v, %v; want %s", res, err, tc.want)
			}
		})
	}
}

// serve runs a fake gateway on loopback and returns a socket connected to it.
func serve(t *testing.T, answer func(n int) [][]byte) *sock.Conn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for n := 1; ; n++ {
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if m != 2 || buf[0] != 0 || buf[1] != opExternalAddress {
				t.Errorf("request %x, want 0000", buf[:m])
			}
			for _, a := range answer(n) {
				_, _ = pc.WriteTo(a, from)
			}
		}
	}()
	c, err := sock.DialUDP(pc.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExchange(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(n int) [][]byte
		want    string
		wantErr func(error) bool
	}{
		{"answered", func(int) [][]byte { return [][]byte{reply(0, 5, "198.51.100.2")} }, "198.51.100.2", nil},
		{"after a retransmission", func(n int) [][]byte {
			if n == 1 {
				return nil
			}
			return [][]byte{reply(0, 5, "198.51.100.3")}
		}, "198.51.100.3", nil},
		{"garbage then answer", func(int) [][]byte { return [][]byte{{1, 2, 3}, reply(0, 5, "198.51.100.4")} }, "198.51.100.4", nil},
		{"silent", func(int) [][]byte { return nil }, "", func(err error) bool { return errors.Is(err, ErrTimeout) }},
		{"garbage only", func(int) [][]byte { return [][]byte{{0, 128, 0}} }, "", func(err error) bool {
			return errors.Is(err, ErrTimeout) && strings.Contains(err.Error(), "3 bytes")
		}},
		{"refused", func(int) [][]byte { return [][]byte{reply(2, 5, "0.0.0.0")} }, "", func(err error) bool {
			var re *ResultError
			return errors.As(err, &re) && re.Code == 2
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := serve(t, tc.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var res Result
			err := exchange(ctx, c, 50*time.Millisecond, &res)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("got %+v, %v", res, err)
				}
				return
			}
			if err != nil || res.External.String() != tc.want {
				t.Fatalf("got %+v, %v; want %s", res, err, tc.want)
			}
		})
	}
}

func TestExternalAddressRejectsIPv6Gateway(t *testing.T) {
	if _, err := ExternalAddress(context.Background(), netip.MustParseAddr("2001:db8::1"), Options{}); err == nil {
		t.Fatal("no error for an IPv6 gateway")
	}
}
