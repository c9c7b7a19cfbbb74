package probe

import (
	"errors"
	"fmt"
	"strconv"
)

// L2TPv2 numbers (RFC 2661).
const (
	l2tpFlagT     = 0x8000 // control message
	l2tpFlagL     = 0x4000 // length present
	l2tpFlagS     = 0x0800 // Ns/Nr present
	l2tpFlagO     = 0x0200 // offset present
	l2tpVerMask   = 0x000F
	l2tpVersion   = 2
	l2tpHeaderLen = 12 // T, L, S set: flags, length, tunnel, session, Ns, Nr

	avpMandatory = 0x8000
	avpHidden    = 0x4000
	avpLenMask   = 0x03FF

	avpMessageType    = 0
	avpResultCode     = 1
	avpProtocolVer    = 2
	avpFraming        = 3
	avpHostName       = 7
	avpVendorName     = 8
	avpAssignedTunnel = 9
	avpReceiveWindow  = 10

	msgSCCRQ   = 1
	msgSCCRP   = 2
	msgStopCCN = 4
)

// probeHostName is the Host Name this probe announces (L2TP and PPTP).
const probeHostName = "vpnpass-probe"

func appendAVP(b []byte, typ uint16, value []byte) []byte {
	b = be.AppendUint16(b, avpMandatory|uint16(6+len(value)))
	b = be.AppendUint16(b, 0) // IETF vendor
	b = be.AppendUint16(b, typ)
	return append(b, value...)
}

func u16(v uint16) []byte { return be.AppendUint16(nil, v) }

// l2tpControl wraps AVPs in a control message header.
func l2tpControl(tunnel, ns, nr uint16, avps []byte) []byte {
	b := be.AppendUint16(nil, l2tpFlagT|l2tpFlagL|l2tpFlagS|l2tpVersion)
	b = be.AppendUint16(b, uint16(l2tpHeaderLen+len(avps)))
	b = be.AppendUint16(b, tunnel)
	b = be.AppendUint16(b, 0) // session
	b = be.AppendUint16(b, ns)
	b = be.AppendUint16(b, nr)
	return append(b, avps...)
}

// encodeSCCRQ builds Start-Control-Connection-Request (RFC 2661 6.1) with
// the mandatory AVPs, sent to tunnel 0 as every new tunnel starts.
func encodeSCCRQ(tunnelID uint16) []byte {
	var avps []byte
	avps = appendAVP(avps, avpMessageType, u16(msgSCCRQ))
	avps = appendAVP(avps, avpProtocolVer, []byte{1, 0})
	avps = appendAVP(avps, avpHostName, []byte(probeHostName))
	avps = appendAVP(avps, avpFraming, be.AppendUint32(nil, 3)) // synchronous and asynchronous
	avps = appendAVP(avps, avpAssignedTunnel, u16(tunnelID))
	avps = appendAVP(avps, avpReceiveWindow, u16(4))
	return l2tpControl(0, 0, 0, avps)
}

// encodeStopCCN closes the tunnel a server opened for us (RFC 2661 6.4),
// so it does not keep retransmitting its SCCRP until it gives up.
func encodeStopCCN(ours, theirs uint16) []byte {
	var avps []byte
	avps = appendAVP(avps, avpMessageType, u16(msgStopCCN))
	avps = appendAVP(avps, avpAssignedTunnel, u16(ours))
	avps = appendAVP(avps, avpResultCode, u16(1)) // general request to clear control connection
	return l2tpControl(theirs, 1, 1, avps)
}

// l2tpReply is what an answer to our SCCRQ says.
type l2tpReply struct {
	msgType  uint16 // 0: a ZLB acknowledgement (no AVPs)
	tunnelID uint16 // the server's Assigned Tunnel ID, if sent
	result   uint16 // StopCCN Result Code
	hostName string
	vendor   string
}

// decodeL2TP accepts an L2TPv2 control message addressed to our tunnel (or
// to tunnel 0, as some servers send a StopCCN before they know ours).
func decodeL2TP(b []byte, ourTunnel uint16) (l2tpReply, error) {
	if len(b) < l2tpHeaderLen {
		return l2tpReply{}, errNotOurs
	}
	flags := be.Uint16(b[0:2])
	if flags&l2tpVerMask != l2tpVersion || flags&(l2tpFlagT|l2tpFlagL|l2tpFlagS) != l2tpFlagT|l2tpFlagL|l2tpFlagS || flags&l2tpFlagO != 0 {
		return l2tpReply{}, errNotOurs
	}
	n := int(be.Uint16(b[2:4]))
	if n < l2tpHeaderLen || n > len(b) {
		return l2tpReply{}, errNotOurs
	}
	if t := be.Uint16(b[4:6]); t != ourTunnel && t != 0 {
		return l2tpReply{}, errNotOurs
	}
	var r l2tpReply
	if err := r.walk(b[l2tpHeaderLen:n]); err != nil {
		return l2tpReply{}, err
	}
	return r, nil
}

// walk decodes the AVPs; the first must be Message Type (RFC 2661 4.4).
func (r *l2tpReply) walk(b []byte) error {
	for first := true; len(b) > 0; first = false {
		if len(b) < 6 {
			return errors.New("truncated AVP")
		}
		hdr := be.Uint16(b[0:2])
		n := int(hdr & avpLenMask)
		if n < 6 || n > len(b) {
			return fmt.Errorf("AVP length %d", n)
		}
		vendor, typ, val := be.Uint16(b[2:4]), be.Uint16(b[4:6]), b[6:n]
		b = b[n:]
		if first && (vendor != 0 || typ != avpMessageType || len(val) != 2 || hdr&avpHidden != 0) {
			return errors.New("first AVP is not Message Type")
		}
		if vendor != 0 || hdr&avpHidden != 0 {
			continue // vendor-specific or hidden (needs the tunnel secret)
		}
		switch {
		case typ == avpMessageType && first:
			r.msgType = be.Uint16(val)
		case typ == avpAssignedTunnel && len(val) == 2:
			r.tunnelID = be.Uint16(val)
		case typ == avpResultCode && len(val) >= 2:
			r.result = be.Uint16(val)
		case typ == avpHostName:
			r.hostName = printable(val)
		case typ == avpVendorName:
			r.vendor = printable(val)
		}
	}
	return nil
}

// stopCCNResults by result code (an array: a map literal costs init code).
var stopCCNResults = [...]string{
	1: "general request to clear control connection",
	2: "general error",
	3: "control channel already exists",
	4: "requester is not authorized to establish a control channel",
	5: "protocol version not supported",
	6: "requester is being shut down",
	7: "finite state machine error",
}

func (r l2tpReply) describe() string {
	switch r.msgType {
	case 0:
		return "ZLB acknowledgement (the server queued our SCCRQ)"
	case msgSCCRP:
		return "SCCRP" + peerName(r.hostName, r.vendor)
	case msgStopCCN:
		s := "StopCCN, result " + strconv.Itoa(int(r.result))
		if int(r.result) < len(stopCCNResults) && stopCCNResults[r.result] != "" {
			s += " (" + stopCCNResults[r.result] + ")"
		}
		return s
	}
	return "L2TP control message type " + strconv.Itoa(int(r.msgType))
}

// peerName formats " from host H (vendor V)" from what the server sent.
func peerName(host, vendor string) string {
	s := ""
	if host != "" {
		s += " from host " + host
	}
	if vendor != "" {
		s += " (vendor " + vendor + ")"
	}
	return s
}

// printable keeps a server-supplied string safe to print: NUL-terminated
// fields are cut, control and non-ASCII bytes dropped, length bounded.
func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		if c >= 0x20 && c < 0x7F {
			out = append(out, c)
		}
		if len(out) == 64 {
			break
		}
	}
	return string(out)
}
