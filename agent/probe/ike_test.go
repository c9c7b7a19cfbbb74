package probe

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name (hex, 32 bytes a line).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	var lines []string
	for b := got; len(b) > 0; {
		n := min(32, len(b))
		lines = append(lines, hex.EncodeToString(b[:n]))
		b = b[n:]
	}
	text := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs from the golden file:\ngot:\n%swant:\n%s", name, text, want)
	}
}

var (
	testSPI    = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	testLocal  = netip.MustParseAddrPort("192.168.1.1:40000")
	testRemote = netip.MustParseAddrPort("203.0.113.10:500")
)

func testIKERequest() ikeRequest {
	return ikeRequest{spi: testSPI, ke: bytes.Repeat([]byte{0x11}, 32), nonce: bytes.Repeat([]byte{0x22}, nonceLen)}
}

// testPayload is one payload for the test-side IKE walker and builder.
type testPayload struct {
	typ  uint8
	body []byte
}

// walkPayloads is an independent walk of the chain, for the tests.
func walkPayloads(t *testing.T, msg []byte) []testPayload {
	t.Helper()
	var out []testPayload
	next, b := msg[16], msg[ikeHeaderLen:]
	for next != 0 {
		if len(b) < 4 {
			t.Fatalf("payload %d truncated", next)
		}
		n := int(binary.BigEndian.Uint16(b[2:4]))
		out = append(out, testPayload{next, b[4:n]})
		next, b = b[0], b[n:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after the last payload", len(b))
	}
	return out
}

func TestEncodeIKE(t *testing.T) {
	msg := encodeIKE(testIKERequest(), testLocal, testRemote)
	golden(t, "ike_sa_init.hex", msg)

	if got := binary.BigEndian.Uint32(msg[24:28]); int(got) != len(msg) {
		t.Errorf("header length %d, message %d bytes", got, len(msg))
	}
	if !bytes.Equal(msg[:8], testSPI[:]) || !bytes.Equal(msg[8:16], make([]byte, 8)) {
		t.Errorf("SPIs % x", msg[:16])
	}
	if msg[17] != 0x20 || msg[18] != 34 || msg[19] != 0x08 {
		t.Errorf("version %#x exchange %d flags %#x, want 0x20 34 0x08", msg[17], msg[18], msg[19])
	}
	ps := walkPayloads(t, msg)
	var types []uint8
	for _, p := range ps {
		types = append(types, p.typ)
	}
	if want := []uint8{33, 34, 40, 41, 41}; !bytes.Equal(types, want) {
		t.Fatalf("payload types %v, want %v", types, want)
	}
	ke := ps[1].body
	if g := binary.BigEndian.Uint16(ke); g != 31 || len(ke) != 4+32 {
		t.Errorf("KE group %d with %d bytes, want x25519 with 32", g, len(ke)-4)
	}
	if len(ps[2].body) != nonceLen {
		t.Errorf("nonce of %d bytes", len(ps[2].body))
	}
	for i, c := range []struct {
		typ uint16
		ap  netip.AddrPort
	}{{16388, testLocal}, {16389, testRemote}} {
		n := ps[3+i].body
		if got := binary.BigEndian.Uint16(n[2:4]); got != c.typ {
			t.Errorf("notify %d type %d, want %d", i, got, c.typ)
		}
		h := sha1.New()
		h.Write(testSPI[:])
		h.Write(make([]byte, 8))
		ip := c.ap.Addr().As4()
		h.Write(ip[:])
		h.Write([]byte{byte(c.ap.Port() >> 8), byte(c.ap.Port())})
		if !bytes.Equal(n[4:], h.Sum(nil)) {
			t.Errorf("notify %d hash % x", c.typ, n[4:])
		}
	}
}

// TestEncodeSA checks every proposal against RFC 7296 3.3: numbering,
// "more" markers, lengths, and the x25519 group our KE payload uses.
func TestEncodeSA(t *testing.T) {
	b := encodeSA(ikeProposals)
	for i := range ikeProposals {
		if len(b) < 8 {
			t.Fatalf("proposal %d truncated", i+1)
		}
		n := int(binary.BigEndian.Uint16(b[2:4]))
		wantMore := byte(2)
		if i == len(ikeProposals)-1 {
			wantMore = 0
		}
		if b[0] != wantMore || b[4] != byte(i+1) || b[5] != 1 || b[6] != 0 || int(b[7]) != len(ikeProposals[i]) {
			t.Errorf("proposal %d header % x", i+1, b[:8])
		}
		got := decodeProposal(b[:n])
		if len(got) != len(ikeProposals[i]) {
			t.Fatalf("proposal %d: %d transforms decoded, want %d", i+1, len(got), len(ikeProposals[i]))
		}
		for j := range got {
			if got[j] != ikeProposals[i][j] {
				t.Errorf("proposal %d transform %d: %+v, want %+v", i+1, j, got[j], ikeProposals[i][j])
			}
		}
		b = b[n:]
	}
	if len(b) != 0 {
		t.Errorf("%d bytes after the proposals", len(b))
	}
	if !hasTransform(ikeProposals[0], transform{trDH, groupX25519, 0}) || !hasTransform(ikeProposals[0], transform{trDH, 14, 0}) ||
		!hasTransform(ikeProposals[0], transform{trENCR, 12, 256}) || !hasTransform(ikeProposals[0], transform{trINTEG, 12, 0}) {
		t.Error("the first proposal lacks aes256-sha256 with x25519 and modp2048")
	}
}

func hasTransform(ts []transform, t transform) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// ikeResponse builds a response as a server would, with the test's own
// encoder: header fields given explicitly, payloads chained.
func ikeResponse(spi [8]byte, version, exchange, flags byte, ps ...testPayload) []byte {
	be := binary.BigEndian
	var body []byte
	for i, p := range ps {
		next := byte(0)
		if i+1 < len(ps) {
			next = ps[i+1].typ
		}
		body = append(body, next, 0)
		body = be.AppendUint16(body, uint16(4+len(p.body)))
		body = append(body, p.body...)
	}
	first := byte(0)
	if len(ps) > 0 {
		first = ps[0].typ
	}
	b := append(spi[:], 9, 9, 9, 9, 9, 9, 9, 9, first, version, exchange, flags)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, uint32(ikeHeaderLen+len(body)))
	return append(b, body...)
}

func notifyPayload(typ uint16, data ...byte) testPayload {
	b := binary.BigEndian.AppendUint16([]byte{0, 0}, typ)
	return testPayload{41, append(b, data...)}
}

// chosenSA is a one-proposal SA payload: aes256, prfsha256, sha256, x25519.
func chosenSA() testPayload {
	be := binary.BigEndian
	trs := []byte{3, 0, 0, 12, 1, 0, 0, 12, 0x80, 0x0E, 1, 0}
	trs = append(trs, 3, 0, 0, 8, 2, 0, 0, 5)
	trs = append(trs, 3, 0, 0, 8, 3, 0, 0, 12)
	trs = append(trs, 0, 0, 0, 8, 4, 0, 0, 31)
	p := be.AppendUint16([]byte{0, 0}, uint16(8+len(trs)))
	p = append(p, 1, 1, 0, 4)
	return testPayload{33, append(p, trs...)}
}

func TestDecodeIKE(t *testing.T) {
	other := [8]byte{8, 7, 6, 5, 4, 3, 2, 1}
	tests := []struct {
		name   string
		msg    []byte
		ours   bool
		detail string // substring of describe()
	}{
		{"accepted", ikeResponse(testSPI, 0x20, 34, 0x20, chosenSA(), testPayload{34, make([]byte, 36)}, testPayload{40, make([]byte, 32)}),
			true, "proposal accepted: aes256-sha256-prfsha256-x25519"},
		{"no proposal chosen", ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(14)), true, "NO_PROPOSAL_CHOSEN"},
		{"invalid KE", ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(17, 0, 14)), true, "INVALID_KE_PAYLOAD: the server wants DH group modp2048"},
		{"cookie", ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(16390, 1, 2, 3, 4)), true, "COOKIE"},
		{"other error", ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(7)), true, "error notify 7"},
		{"no payloads", ikeResponse(testSPI, 0x20, 34, 0x20), true, "IKE_SA_INIT response"},
		{"IKEv1 answer", ikeResponse(testSPI, 0x10, 5, 0), true, "IKEv1"},
		{"bad payload length", func() []byte {
			m := ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(14))
			m[ikeHeaderLen+3] = 200
			return m
		}(), true, "malformed"},
		{"length beyond datagram", func() []byte {
			m := ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(14))
			return m[:len(m)-1]
		}(), true, "malformed"},
		{"other SPI", ikeResponse(other, 0x20, 34, 0x20, notifyPayload(14)), false, ""},
		{"our own request echoed", encodeIKE(testIKERequest(), testLocal, testRemote), false, ""},
		{"informational", ikeResponse(testSPI, 0x20, 37, 0x20), false, ""},
		{"IKEv3", ikeResponse(testSPI, 0x30, 34, 0x20), false, ""},
		{"short", testSPI[:], false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeIKE(tt.msg, testSPI)
			if (err == nil) != tt.ours {
				t.Fatalf("decodeIKE error %v, want ours=%v", err, tt.ours)
			}
			if d := r.describe(); tt.ours && !strings.Contains(d, tt.detail) {
				t.Errorf("describe() = %q, want it to contain %q", d, tt.detail)
			}
		})
	}
}

func TestProposalName(t *testing.T) {
	tests := []struct {
		ts   []transform
		want string
	}{
		{[]transform{{trDH, 19, 0}, {trENCR, 20, 128}, {trPRF, 6, 0}}, "aes128gcm16-prfsha384-ecp256"},
		{[]transform{{trENCR, 3, 0}, {trINTEG, 2, 0}, {trDH, 2, 0}}, "3des-sha1-modp1024"},
		{[]transform{{trENCR, 99, 0}, {trDH, 99, 0}}, "1:99-4:99"},
	}
	for _, tt := range tests {
		if got := proposalName(tt.ts); got != tt.want {
			t.Errorf("proposalName(%v) = %q, want %q", tt.ts, got, tt.want)
		}
	}
}
