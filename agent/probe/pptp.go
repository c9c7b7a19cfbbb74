package probe

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// PPTP control connection numbers (RFC 2637).
const (
	pptpMagic      = 0x1A2B3C4D
	pptpControl    = 1
	pptpHeaderLen  = 12
	pptpSCCRxLen   = 156
	pptpStopCCRQ   = 3
	pptpStopLen    = 16
	pptpMaxMessage = 256 // the longest control message is 220 bytes

	ctrlSCCRQ = 1
	ctrlSCCRP = 2
)

func pptpHeader(length, ctype uint16) []byte {
	b := be.AppendUint16(nil, length)
	b = be.AppendUint16(b, pptpControl)
	b = be.AppendUint32(b, pptpMagic)
	b = be.AppendUint16(b, ctype)
	return be.AppendUint16(b, 0) // reserved
}

// fixed returns s in a NUL-padded field of n bytes.
func fixed(s string, n int) []byte {
	b := make([]byte, n)
	copy(b, s)
	return b
}

// encodeSCCRQ builds Start-Control-Connection-Request (RFC 2637 2.1).
func encodePPTPSCCRQ() []byte {
	b := pptpHeader(pptpSCCRxLen, ctrlSCCRQ)
	b = be.AppendUint16(b, 0x0100) // protocol version 1.0
	b = be.AppendUint16(b, 0)      // reserved
	b = be.AppendUint32(b, 3)      // framing: asynchronous and synchronous
	b = be.AppendUint32(b, 3)      // bearer: analog and digital
	b = be.AppendUint16(b, 0)      // maximum channels (a PAC field; 0 from a PNS)
	b = be.AppendUint16(b, 0)      // firmware revision
	b = append(b, fixed(probeHostName, 64)...)
	return append(b, fixed("vpnpass", 64)...)
}

// encodeStopCCRQ ends the control connection politely (RFC 2637 2.3).
func encodeStopCCRQ() []byte {
	b := pptpHeader(pptpStopLen, pptpStopCCRQ)
	return append(b, 1, 0, 0, 0) // reason: general request to clear
}

type pptpReply struct {
	ctype    uint16
	result   uint8
	hostName string
	vendor   string
}

var errNotPPTP = errors.New("the reply is not PPTP")

// readPPTP reads one control message.
func readPPTP(r io.Reader) (none pptpReply, _ error) {
	hdr := make([]byte, pptpHeaderLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return none, err
	}
	n := int(be.Uint16(hdr[0:2]))
	if n < pptpHeaderLen || n > pptpMaxMessage {
		return none, errNotPPTP
	}
	msg := make([]byte, n)
	copy(msg, hdr)
	if _, err := io.ReadFull(r, msg[pptpHeaderLen:]); err != nil {
		return none, err
	}
	return decodePPTP(msg)
}

// decodePPTP checks the header of a whole control message and, for an
// SCCRP, reads the result code, host name and vendor.
func decodePPTP(b []byte) (none pptpReply, _ error) {
	if len(b) < pptpHeaderLen || int(be.Uint16(b[0:2])) != len(b) ||
		be.Uint16(b[2:4]) != pptpControl || be.Uint32(b[4:8]) != pptpMagic {
		return none, errNotPPTP
	}
	r := pptpReply{ctype: be.Uint16(b[8:10])}
	if r.ctype != ctrlSCCRP {
		return r, nil
	}
	if len(b) != pptpSCCRxLen {
		return none, fmt.Errorf("SCCRP of %d bytes, want %d: %w", len(b), pptpSCCRxLen, errNotPPTP)
	}
	r.result = b[14]
	r.hostName = printable(b[28:92])
	r.vendor = printable(b[92:156])
	return r, nil
}

// sccrpResults by result code (an array: a map literal costs init code).
var sccrpResults = [...]string{
	1: "connection established",
	2: "general error",
	3: "command channel already exists",
	4: "requester is not authorized",
	5: "protocol version not supported",
}

func (r pptpReply) describe() string {
	if r.ctype != ctrlSCCRP {
		return "PPTP control message type " + strconv.Itoa(int(r.ctype)) + " instead of SCCRP"
	}
	s := "SCCRP" + peerName(r.hostName, r.vendor)
	if int(r.result) < len(sccrpResults) && sccrpResults[r.result] != "" {
		return s + ", " + sccrpResults[r.result]
	}
	return s + ", result " + strconv.Itoa(int(r.result))
}
