package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// sccrp builds a Start-Control-Connection-Reply as RFC 2637 2.2 lays it out.
func sccrp(result uint8, host, vendor string) []byte {
	be := binary.BigEndian
	b := be.AppendUint16(nil, 156)
	b = be.AppendUint16(b, 1)
	b = be.AppendUint32(b, 0x1A2B3C4D)
	b = be.AppendUint16(b, 2)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint16(b, 0x0100)
	b = append(b, result, 0)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint16(b, 1)
	b = be.AppendUint16(b, 0x0200)
	h, v := make([]byte, 64), make([]byte, 64)
	copy(h, host)
	copy(v, vendor)
	return append(append(b, h...), v...)
}

func TestEncodePPTP(t *testing.T) {
	be := binary.BigEndian
	msg := encodePPTPSCCRQ()
	golden(t, "pptp_sccrq.hex", msg)
	if len(msg) != 156 || be.Uint16(msg[0:2]) != 156 {
		t.Fatalf("SCCRQ of %d bytes (length field %d), want 156", len(msg), be.Uint16(msg[0:2]))
	}
	if be.Uint16(msg[2:4]) != 1 || be.Uint32(msg[4:8]) != 0x1A2B3C4D || be.Uint16(msg[8:10]) != 1 || be.Uint16(msg[12:14]) != 0x0100 {
		t.Errorf("header % x", msg[:16])
	}
	if h := string(bytes.TrimRight(msg[28:92], "\x00")); h != "vpnpass-probe" {
		t.Errorf("host name %q", h)
	}
	stop := encodeStopCCRQ()
	if len(stop) != 16 || be.Uint16(stop[0:2]) != 16 || be.Uint16(stop[8:10]) != 3 || stop[12] != 1 {
		t.Errorf("StopCCRQ % x", stop)
	}
}

func TestReadPPTP(t *testing.T) {
	stopRQ := encodeStopCCRQ()
	tests := []struct {
		name   string
		stream []byte
		err    error // nil: decoded
		detail string
	}{
		{"SCCRP", sccrp(1, "pns.example", "Microsoft\x00rest"), nil, "SCCRP from host pns.example (vendor Microsoft), connection established"},
		{"SCCRP refusing", sccrp(4, "", ""), nil, "SCCRP, requester is not authorized"},
		{"SCCRP unknown result", sccrp(9, "", "v"), nil, "(vendor v), result 9"},
		{"StopCCRQ instead", stopRQ, nil, "type 3 instead of SCCRP"},
		{"HTTP", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), errNotPPTP, ""},
		{"wrong cookie", func() []byte { b := sccrp(1, "", ""); b[4] = 0; return b }(), errNotPPTP, ""},
		{"short SCCRP", func() []byte { b := sccrp(1, "", "")[:100]; b[1] = 100; return b }(), errNotPPTP, ""},
		{"huge length", []byte{0xFF, 0xFF, 0, 1, 0x1A, 0x2B, 0x3C, 0x4D, 0, 2, 0, 0}, errNotPPTP, ""},
		{"truncated", sccrp(1, "", "")[:40], errors.New("EOF"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readPPTP(bytes.NewReader(tt.stream))
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("readPPTP: %v", err)
			case tt.err == errNotPPTP && !errors.Is(err, errNotPPTP):
				t.Fatalf("readPPTP error %v, want errNotPPTP", err)
			case tt.err != nil && err == nil:
				t.Fatalf("readPPTP decoded %+v, want an error", r)
			}
			if d := r.describe(); tt.err == nil && !strings.Contains(d, tt.detail) {
				t.Errorf("describe() = %q, want it to contain %q", d, tt.detail)
			}
		})
	}
}
