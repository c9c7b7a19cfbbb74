// Package pptppeer is a PPTP test peer (RFC 2637): a server that answers
// Start-Control-Connection and Outgoing-Call requests on TCP 1723 and echoes
// enhanced-GRE packets, and a client that runs the same exchange and then
// sends GRE and waits for the replies. Raw sockets, no kernel PPP: enough for
// the kernel's pptp conntrack helper to see a real call (it parses these
// messages, NATs the call IDs and expects the GRE).
//
// Sockets are opened on the calling thread, so call Listen/Dial inside the
// lab node's Do to place them in that network namespace.
package pptppeer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	magicCookie = 0x1A2B3C4D
	msgControl  = 1

	typeSCCRQ = 1
	typeSCCRP = 2
	typeOCRQ  = 7
	typeOCRP  = 8

	// Message lengths from RFC 2637 (the kernel checks them).
	lenSCCRx = 156
	lenOCRQ  = 168
	lenOCRP  = 32

	greFlagsKS   = 0x3001 // key present, sequence present, version 1
	greProtoPPTP = 0x880B
)

// controlHeader writes the 12-byte PPTP control header.
func controlHeader(b *bytes.Buffer, length, ctype uint16) {
	_ = binary.Write(b, binary.BigEndian, struct {
		Length, MsgType uint16
		Cookie          uint32
		CType, Res      uint16
	}{length, msgControl, magicCookie, ctype, 0})
}

func sccr(ctype uint16) []byte {
	b := &bytes.Buffer{}
	controlHeader(b, lenSCCRx, ctype)
	_ = binary.Write(b, binary.BigEndian, uint16(0x0100)) // protocol version 1.0
	if ctype == typeSCCRQ {
		b.Write([]byte{0, 0}) // reserved
	} else {
		b.Write([]byte{1, 0}) // result: successful channel establishment
	}
	_ = binary.Write(b, binary.BigEndian, []uint32{1, 1}) // framing, bearer caps
	_ = binary.Write(b, binary.BigEndian, []uint16{1, 1}) // max channels, firmware
	b.Write(pad("vpnpass-lab", 64))
	b.Write(pad("vpnpass", 64))
	return b.Bytes()
}

func ocrq(callID, serial uint16) []byte {
	b := &bytes.Buffer{}
	controlHeader(b, lenOCRQ, typeOCRQ)
	_ = binary.Write(b, binary.BigEndian, []uint16{callID, serial})
	_ = binary.Write(b, binary.BigEndian, []uint32{300, 100000000, 3, 3}) // bps, bearer, framing
	_ = binary.Write(b, binary.BigEndian, []uint16{64, 0, 0, 0})          // window, delay, phone len, reserved
	b.Write(pad("", 64))
	b.Write(pad("", 64))
	return b.Bytes()
}

func ocrp(callID, peerCallID uint16) []byte {
	b := &bytes.Buffer{}
	controlHeader(b, lenOCRP, typeOCRP)
	_ = binary.Write(b, binary.BigEndian, []uint16{callID, peerCallID})
	b.Write([]byte{1, 0})                                    // result connected, error none
	_ = binary.Write(b, binary.BigEndian, uint16(0))         // cause
	_ = binary.Write(b, binary.BigEndian, uint32(100000000)) // connect speed
	_ = binary.Write(b, binary.BigEndian, []uint16{64, 0})   // window, delay
	_ = binary.Write(b, binary.BigEndian, uint32(0))         // physical channel
	return b.Bytes()
}

func pad(s string, n int) []byte {
	out := make([]byte, n)
	copy(out, s)
	return out
}

// readControl reads one control message and returns its type and body.
func readControl(r io.Reader) (uint16, []byte, error) {
	hdr := make([]byte, 12)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, fmt.Errorf("read pptp header: %w", err)
	}
	length := binary.BigEndian.Uint16(hdr[0:2])
	if binary.BigEndian.Uint32(hdr[4:8]) != magicCookie || length < 12 {
		return 0, nil, errors.New("read pptp header: bad magic cookie or length")
	}
	body := make([]byte, length-12)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("read pptp body: %w", err)
	}
	return binary.BigEndian.Uint16(hdr[8:10]), body, nil
}

// GRE builds an enhanced GRE (version 1) packet for the call key.
func GRE(key uint16, seq uint32, payload []byte) []byte {
	b := &bytes.Buffer{}
	_ = binary.Write(b, binary.BigEndian, []uint16{greFlagsKS, greProtoPPTP, uint16(len(payload)), key})
	_ = binary.Write(b, binary.BigEndian, seq)
	b.Write(payload)
	return b.Bytes()
}

// ParseGRE returns the call key and payload of an enhanced GRE packet.
func ParseGRE(p []byte) (key uint16, payload []byte, err error) {
	if len(p) < 12 || binary.BigEndian.Uint16(p[0:2])&0x0007 != 1 || binary.BigEndian.Uint16(p[2:4]) != greProtoPPTP {
		return 0, nil, errors.New("not an enhanced GRE packet")
	}
	flags := binary.BigEndian.Uint16(p[0:2])
	off := 8
	if flags&0x1000 != 0 {
		off += 4
	}
	if flags&0x0080 != 0 {
		off += 4
	}
	n := int(binary.BigEndian.Uint16(p[4:6]))
	if len(p) < off+n {
		return 0, nil, errors.New("truncated GRE packet")
	}
	return binary.BigEndian.Uint16(p[6:8]), p[off : off+n], nil
}

// Deadline bounds every exchange so a test never hangs.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }
