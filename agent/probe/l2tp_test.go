package probe

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// testAVP is one AVP for the test-side walker and builder.
type testAVP struct {
	flags  uint16 // M / H bits
	vendor uint16
	typ    uint16
	value  []byte
}

func buildAVPs(avps ...testAVP) []byte {
	be := binary.BigEndian
	var b []byte
	for _, a := range avps {
		b = be.AppendUint16(b, a.flags|uint16(6+len(a.value)))
		b = be.AppendUint16(b, a.vendor)
		b = be.AppendUint16(b, a.typ)
		b = append(b, a.value...)
	}
	return b
}

// l2tpMessage builds a control message header around AVPs.
func l2tpMessage(flags, tunnel uint16, avps []byte) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, flags)
	b = be.AppendUint16(b, uint16(12+len(avps)))
	b = be.AppendUint16(b, tunnel)
	b = append(b, 0, 0, 0, 0, 0, 1) // session 0, Ns 0, Nr 1
	return append(b, avps...)
}

func parseAVPs(t *testing.T, b []byte) []testAVP {
	t.Helper()
	var out []testAVP
	for len(b) > 0 {
		hdr := binary.BigEndian.Uint16(b[0:2])
		n := int(hdr & 0x03FF)
		if n < 6 || n > len(b) {
			t.Fatalf("AVP length %d with %d bytes left", n, len(b))
		}
		out = append(out, testAVP{hdr &^ 0x03FF, binary.BigEndian.Uint16(b[2:4]), binary.BigEndian.Uint16(b[4:6]), b[6:n]})
		b = b[n:]
	}
	return out
}

func TestEncodeSCCRQ(t *testing.T) {
	msg := encodeSCCRQ(0xBEEF)
	golden(t, "l2tp_sccrq.hex", msg)
	be := binary.BigEndian
	if f := be.Uint16(msg[0:2]); f != 0xC802 {
		t.Errorf("flags %#04x, want 0xc802 (T, L, S, version 2)", f)
	}
	if n := be.Uint16(msg[2:4]); int(n) != len(msg) {
		t.Errorf("length %d, message %d bytes", n, len(msg))
	}
	if tid, sid, ns, nr := be.Uint16(msg[4:6]), be.Uint16(msg[6:8]), be.Uint16(msg[8:10]), be.Uint16(msg[10:12]); tid|sid|ns|nr != 0 {
		t.Errorf("tunnel %d session %d Ns %d Nr %d, want all 0", tid, sid, ns, nr)
	}
	avps := parseAVPs(t, msg[12:])
	want := map[uint16]string{0: "0001", 2: "0100", 3: "00000003", 7: "vpnpass-probe", 9: "beef", 10: "0004"}
	if avps[0].typ != 0 {
		t.Errorf("first AVP type %d, want Message Type", avps[0].typ)
	}
	for _, a := range avps {
		if a.flags != 0x8000 || a.vendor != 0 {
			t.Errorf("AVP %d flags %#x vendor %d, want mandatory IETF", a.typ, a.flags, a.vendor)
		}
		got := string(a.value)
		if a.typ != 7 {
			got = hex.EncodeToString(a.value)
		}
		if got != want[a.typ] {
			t.Errorf("AVP %d = %q, want %q", a.typ, got, want[a.typ])
		}
		delete(want, a.typ)
	}
	if len(want) != 0 {
		t.Errorf("missing AVPs %v", want)
	}
}

func TestEncodeStopCCN(t *testing.T) {
	msg := encodeStopCCN(0xBEEF, 0x0102)
	r, err := decodeL2TP(msg, 0x0102)
	if err != nil {
		t.Fatal(err)
	}
	if r.msgType != msgStopCCN || r.tunnelID != 0xBEEF || r.result != 1 {
		t.Errorf("decoded %+v, want StopCCN for tunnel 0xbeef with result 1", r)
	}
}

func TestDecodeL2TP(t *testing.T) {
	const ours = 0xBEEF
	msgType := func(v uint16) testAVP { return testAVP{0x8000, 0, 0, []byte{byte(v >> 8), byte(v)}} }
	sccrp := buildAVPs(msgType(2), testAVP{0x8000, 0, 2, []byte{1, 0}}, testAVP{0x8000, 0, 7, []byte("lns\x01.example\x00junk")},
		testAVP{0, 0, 8, []byte("xl2tpd")}, testAVP{0x8000, 0, 9, []byte{0x12, 0x34}}, testAVP{0, 311, 99, []byte("vendor avp")},
		testAVP{0xC000, 0, 7, []byte("hidden!!")})
	tests := []struct {
		name   string
		msg    []byte
		ours   bool
		detail string
	}{
		{"SCCRP", l2tpMessage(0xC802, ours, sccrp), true, "SCCRP from host lns.example (vendor xl2tpd)"},
		{"StopCCN", l2tpMessage(0xC802, ours, buildAVPs(msgType(4), testAVP{0x8000, 0, 1, []byte{0, 5}})), true,
			"StopCCN, result 5 (protocol version not supported)"},
		{"StopCCN to tunnel 0", l2tpMessage(0xC802, 0, buildAVPs(msgType(4), testAVP{0x8000, 0, 1, []byte{0, 2, 0, 6}})), true, "result 2"},
		{"ZLB", l2tpMessage(0xC802, ours, nil), true, "ZLB"},
		{"HELLO", l2tpMessage(0xC802, ours, buildAVPs(msgType(6))), true, "type 6"},
		{"other tunnel", l2tpMessage(0xC802, 0x1111, sccrp), false, ""},
		{"data message", l2tpMessage(0x4802, ours, sccrp), false, ""},
		{"version 3", l2tpMessage(0xC803, ours, sccrp), false, ""},
		{"offset bit", l2tpMessage(0xCA02, ours, sccrp), false, ""},
		{"first AVP not message type", l2tpMessage(0xC802, ours, buildAVPs(testAVP{0x8000, 0, 9, []byte{1, 2}})), false, ""},
		{"hidden message type", l2tpMessage(0xC802, ours, buildAVPs(testAVP{0xC000, 0, 0, []byte{0, 2}})), false, ""},
		{"AVP overruns", func() []byte { m := l2tpMessage(0xC802, ours, sccrp); m[12+1] = 0xFF; return m }(), false, ""},
		{"length beyond datagram", l2tpMessage(0xC802, ours, sccrp)[:20], false, ""},
		{"short", []byte{0xC8, 0x02, 0, 12}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeL2TP(tt.msg, ours)
			if (err == nil) != tt.ours {
				t.Fatalf("decodeL2TP error %v, want ours=%v", err, tt.ours)
			}
			if d := r.describe(); tt.ours && !strings.Contains(d, tt.detail) {
				t.Errorf("describe() = %q, want it to contain %q", d, tt.detail)
			}
		})
	}
	r, _ := decodeL2TP(l2tpMessage(0xC802, ours, sccrp), ours)
	if r.tunnelID != 0x1234 {
		t.Errorf("assigned tunnel %#x, want 0x1234", r.tunnelID)
	}
}
