package probe

import (
	"bytes"
	"testing"
)

// The decoders read what any host on the path may send: they must never
// panic, and must only accept what carries our SPI or tunnel.

func FuzzIKEResponse(f *testing.F) {
	f.Add(ikeResponse(testSPI, 0x20, 34, 0x20, chosenSA(), testPayload{34, make([]byte, 36)}))
	f.Add(ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(17, 0, 14)))
	f.Add(ikeResponse(testSPI, 0x10, 5, 0))
	f.Add(append([]byte{0, 0, 0, 0}, ikeResponse(testSPI, 0x20, 34, 0x20, notifyPayload(16390, 1))...))
	f.Add(encodeIKE(testIKERequest(), testLocal, testRemote))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeIKE(b, testSPI)
		if err != nil {
			return
		}
		if !bytes.Equal(b[:8], testSPI[:]) {
			t.Fatalf("accepted a message with SPI % x", b[:8])
		}
		if r.describe() == "" {
			t.Fatal("accepted reply without description")
		}
	})
}

func FuzzL2TPResponse(f *testing.F) {
	const ours = 0xBEEF
	f.Add(l2tpMessage(0xC802, ours, buildAVPs(testAVP{0x8000, 0, 0, []byte{0, 2}}, testAVP{0x8000, 0, 7, []byte("lns")},
		testAVP{0x8000, 0, 9, []byte{1, 2}})))
	f.Add(l2tpMessage(0xC802, 0, buildAVPs(testAVP{0x8000, 0, 0, []byte{0, 4}}, testAVP{0x8000, 0, 1, []byte{0, 2, 0, 1, 'x'}})))
	f.Add(l2tpMessage(0xC802, ours, nil))
	f.Add(encodeSCCRQ(ours))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeL2TP(b, ours)
		if err != nil {
			return
		}
		if tunnel := uint16(b[4])<<8 | uint16(b[5]); tunnel != ours && tunnel != 0 {
			t.Fatalf("accepted a message for tunnel %#x", tunnel)
		}
		if b[0]&0x80 == 0 {
			t.Fatal("accepted a data message")
		}
		if r.describe() == "" {
			t.Fatal("accepted reply without description")
		}
	})
}

func FuzzPPTPResponse(f *testing.F) {
	f.Add(sccrp(1, "pns", "vendor"))
	f.Add(encodeStopCCRQ())
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readPPTP(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(r.hostName) > 64 || len(r.vendor) > 64 || r.describe() == "" {
			t.Fatalf("decoded %+v", r)
		}
	})
}
