package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"net/netip"
	"strconv"
	"strings"
)

// IKEv2 numbers (RFC 7296 and the IANA IKEv2 registry).
const (
	ikeHeaderLen = 28
	ikeVersion2  = 0x20
	exchSAInit   = 34
	flagInit     = 0x08
	flagResponse = 0x20

	payloadNone   = 0
	payloadSA     = 33
	payloadKE     = 34
	payloadNonce  = 40
	payloadNotify = 41

	protoIKE = 1

	trENCR  = 1
	trPRF   = 2
	trINTEG = 3
	trDH    = 4

	attrKeyLength = 0x800E // TV format (AF bit) + Key Length

	notifyNoProposal     = 14
	notifyInvalidKE      = 17
	notifyNATSourceIP    = 16388
	notifyNATDestination = 16389
	notifyCookie         = 16390

	groupX25519 = 31
	nonceLen    = 32
)

type transform struct {
	typ    uint8
	id     uint16
	keyLen uint16 // 0: no Key Length attribute
}

// ikeProposals is what the probe offers: enough common suites that a real
// server picks one and answers with its own SA, which shows the most. A
// server that accepts none still answers NO_PROPOSAL_CHOSEN, and one that
// wants another DH group answers INVALID_KE_PAYLOAD: both count as answered.
var ikeProposals = [][]transform{
	{ // CBC suites, strongSwan's and most servers' defaults; x25519 first to match our KE
		{trENCR, 12, 256}, {trENCR, 12, 128},
		{trPRF, 5, 0}, {trPRF, 6, 0}, {trPRF, 7, 0}, {trPRF, 2, 0},
		{trINTEG, 12, 0}, {trINTEG, 13, 0}, {trINTEG, 14, 0}, {trINTEG, 2, 0},
		{trDH, groupX25519, 0}, {trDH, 19, 0}, {trDH, 20, 0}, {trDH, 14, 0}, {trDH, 15, 0}, {trDH, 2, 0},
	},
	{ // AEAD suites carry no integrity transform, so they need a proposal of their own
		{trENCR, 20, 256}, {trENCR, 20, 128},
		{trPRF, 5, 0}, {trPRF, 6, 0}, {trPRF, 7, 0},
		{trDH, groupX25519, 0}, {trDH, 19, 0}, {trDH, 20, 0}, {trDH, 14, 0},
	},
	{ // what older Windows and embedded servers still offer
		{trENCR, 3, 0},
		{trPRF, 2, 0}, {trPRF, 5, 0},
		{trINTEG, 2, 0}, {trINTEG, 12, 0},
		{trDH, 14, 0}, {trDH, 2, 0},
	},
}

var be = binary.BigEndian

// payload appends a generic payload header (RFC 7296 3.2) and body.
func payload(b []byte, next uint8, body []byte) []byte {
	b = append(b, next, 0)
	b = be.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func encodeTransform(b []byte, last bool, t transform) []byte {
	more := uint8(3)
	if last {
		more = 0
	}
	n := 8
	if t.keyLen != 0 {
		n += 4
	}
	b = append(b, more, 0)
	b = be.AppendUint16(b, uint16(n))
	b = append(b, t.typ, 0)
	b = be.AppendUint16(b, t.id)
	if t.keyLen != 0 {
		b = be.AppendUint16(b, attrKeyLength)
		b = be.AppendUint16(b, t.keyLen)
	}
	return b
}

// encodeSA builds the SA payload body: proposals numbered from 1, protocol
// IKE, no SPI (an initial exchange).
func encodeSA(props [][]transform) []byte {
	var b []byte
	for i, p := range props {
		var trs []byte
		for j, t := range p {
			trs = encodeTransform(trs, j == len(p)-1, t)
		}
		more := uint8(2)
		if i == len(props)-1 {
			more = 0
		}
		b = append(b, more, 0)
		b = be.AppendUint16(b, uint16(8+len(trs)))
		b = append(b, uint8(i+1), protoIKE, 0, uint8(len(p)))
		b = append(b, trs...)
	}
	return b
}

// natHash is a NAT_DETECTION_*_IP value: SHA-1(SPIi | SPIr | IP | port).
func natHash(spi [8]byte, ap netip.AddrPort) []byte {
	b := append(spi[:], make([]byte, 8)...) // SPIr is zero in the first message
	b = append(b, ap.Addr().Unmap().AsSlice()...)
	sum := sha1Sum(be.AppendUint16(b, ap.Port()))
	return sum[:]
}

func notifyBody(typ uint16, data []byte) []byte {
	b := []byte{0, 0} // protocol ID 0, SPI size 0: about the IKE SA
	b = be.AppendUint16(b, typ)
	return append(b, data...)
}

// ikeRequest holds the random parts of one IKE_SA_INIT request.
type ikeRequest struct {
	spi   [8]byte
	ke    []byte // our public value for groupX25519
	nonce []byte
}

// encodeIKE builds the IKE_SA_INIT request (RFC 7296 1.2): HDR, SAi1, KEi,
// Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP). The NAT
// detection hashes are honest (the socket's real addresses), so a server
// behind or in front of a NAT sees exactly what a real client would send.
func encodeIKE(r ikeRequest, local, remote netip.AddrPort) []byte {
	ke := be.AppendUint16(nil, groupX25519)
	ke = append(append(ke, 0, 0), r.ke...)

	var body []byte
	body = payload(body, payloadKE, encodeSA(ikeProposals))
	body = payload(body, payloadNonce, ke)
	body = payload(body, payloadNotify, r.nonce)
	body = payload(body, payloadNotify, notifyBody(notifyNATSourceIP, natHash(r.spi, local)))
	body = payload(body, payloadNone, notifyBody(notifyNATDestination, natHash(r.spi, remote)))

	b := make([]byte, 0, ikeHeaderLen+len(body))
	b = append(b, r.spi[:]...)
	b = append(b, make([]byte, 8)...) // SPIr
	b = append(b, payloadSA, ikeVersion2, exchSAInit, flagInit)
	b = be.AppendUint32(b, 0) // message ID
	b = be.AppendUint32(b, uint32(ikeHeaderLen+len(body)))
	return append(b, body...)
}

// ikeReply is what a response to our request says.
type ikeReply struct {
	major    uint8
	exchange uint8
	notifies []uint16
	group    uint16      // INVALID_KE_PAYLOAD: the group the server wants
	chosen   []transform // the accepted proposal's transforms
	err      error       // the payload chain did not decode
}

var errNotOurs = errors.New("not a reply to our request")

// decodeIKE accepts an IKE message answering our SPIi: an IKEv2 response
// (header only is enough to count as an answer; payloads add detail) or an
// IKEv1 message with our SPI as initiator cookie, which is how an
// IKEv1-only server answers. Anything else is errNotOurs.
func decodeIKE(b []byte, spi [8]byte) (none ikeReply, _ error) {
	if len(b) < ikeHeaderLen || [8]byte(b[:8]) != spi {
		return none, errNotOurs
	}
	r := ikeReply{major: b[17] >> 4, exchange: b[18]}
	if r.major != 1 && r.major != 2 {
		return none, errNotOurs
	}
	if r.major == 1 {
		return r, nil
	}
	if b[19]&flagResponse == 0 || r.exchange != exchSAInit {
		return none, errNotOurs
	}
	n := int(be.Uint32(b[24:28]))
	if n < ikeHeaderLen || n > len(b) {
		r.err = fmt.Errorf("IKE length %d, datagram %d bytes", n, len(b))
		return r, nil
	}
	r.err = r.walk(b[16], b[ikeHeaderLen:n])
	return r, nil
}

// walk decodes the payload chain, keeping notifies and the chosen SA.
func (r *ikeReply) walk(next uint8, b []byte) error {
	for next != payloadNone {
		if len(b) < 4 {
			return errors.New("truncated payload header")
		}
		n := int(be.Uint16(b[2:4]))
		if n < 4 || n > len(b) {
			return fmt.Errorf("payload %d: bad length %d", next, n)
		}
		body := b[4:n]
		switch next {
		case payloadNotify:
			if len(body) < 4 || len(body) < 4+int(body[1]) {
				return errors.New("short notify payload")
			}
			typ := be.Uint16(body[2:4])
			r.notifies = append(r.notifies, typ)
			if data := body[4+int(body[1]):]; typ == notifyInvalidKE && len(data) >= 2 {
				r.group = be.Uint16(data)
			}
		case payloadSA:
			r.chosen = decodeProposal(body)
		}
		next, b = b[0], b[n:]
	}
	return nil
}

// decodeProposal returns the transforms of the first proposal (a response
// carries exactly one); a malformed one yields what decoded.
func decodeProposal(b []byte) []transform {
	if len(b) < 8 {
		return nil
	}
	plen := int(be.Uint16(b[2:4]))
	if plen < 8+int(b[6]) || plen > len(b) {
		return nil
	}
	b = b[8+int(b[6]) : plen]
	var out []transform
	for len(b) >= 8 {
		tlen := int(be.Uint16(b[2:4]))
		if tlen < 8 || tlen > len(b) {
			break
		}
		t := transform{typ: b[4], id: be.Uint16(b[6:8])}
		if tlen >= 12 && be.Uint16(b[8:10]) == attrKeyLength {
			t.keyLen = be.Uint16(b[10:12])
		}
		out = append(out, t)
		b = b[tlen:]
	}
	return out
}

// describe says in a few words what the server answered.
func (r ikeReply) describe() string {
	if r.major == 1 {
		return "IKEv1 reply: the server does not speak IKEv2"
	}
	var s string
	switch {
	case hasNotify(r.notifies, notifyNoProposal):
		s = "IKE_SA_INIT response, NO_PROPOSAL_CHOSEN: the server accepts none of the common algorithms offered"
	case hasNotify(r.notifies, notifyInvalidKE):
		s = "IKE_SA_INIT response, INVALID_KE_PAYLOAD: the server wants DH group " + groupName(r.group)
	case hasNotify(r.notifies, notifyCookie):
		s = "IKE_SA_INIT response, COOKIE: the server asks for a cookie (under load or configured to)"
	case firstError(r.notifies) != 0:
		s = "IKE_SA_INIT response, error notify " + strconv.Itoa(int(firstError(r.notifies)))
	case len(r.chosen) > 0:
		s = "IKE_SA_INIT response, proposal accepted: " + proposalName(r.chosen)
	default:
		s = "IKE_SA_INIT response"
	}
	if r.err != nil {
		s += " (malformed: " + r.err.Error() + ")"
	}
	return s
}

func hasNotify(ns []uint16, typ uint16) bool {
	for _, n := range ns {
		if n == typ {
			return true
		}
	}
	return false
}

// firstError returns the first error notify (types below 16384).
func firstError(ns []uint16) uint16 {
	for _, n := range ns {
		if n != 0 && n < 16384 {
			return n
		}
	}
	return 0
}

// Names as strongSwan writes proposals, so the detail can be compared with
// a server's configuration ("%d" stands for the key length). A table, not
// maps: maps of literals are built by init code on every start.
var transformNames = []struct {
	typ  uint8
	id   uint16
	name string
}{
	{trENCR, 3, "3des"}, {trENCR, 12, "aes"}, {trENCR, 20, "aes%dgcm16"},
	{trPRF, 2, "prfsha1"}, {trPRF, 5, "prfsha256"}, {trPRF, 6, "prfsha384"}, {trPRF, 7, "prfsha512"},
	{trINTEG, 2, "sha1"}, {trINTEG, 12, "sha256"}, {trINTEG, 13, "sha384"}, {trINTEG, 14, "sha512"},
	{trDH, 2, "modp1024"}, {trDH, 14, "modp2048"}, {trDH, 15, "modp3072"}, {trDH, 16, "modp4096"},
	{trDH, 19, "ecp256"}, {trDH, 20, "ecp384"}, {trDH, groupX25519, "x25519"},
}

func transformName(typ uint8, id uint16) (string, bool) {
	for _, n := range transformNames {
		if n.typ == typ && n.id == id {
			return n.name, true
		}
	}
	return "", false
}

func groupName(g uint16) string {
	if n, ok := transformName(trDH, g); ok {
		return n
	}
	return strconv.Itoa(int(g))
}

// typeRank orders transforms as strongSwan writes them: encryption,
// integrity, PRF, DH, whatever order the server sent them in (other types
// go with encryption).
func typeRank(typ uint8) int {
	switch typ {
	case trINTEG:
		return 1
	case trPRF:
		return 2
	case trDH:
		return 3
	}
	return 0
}

func proposalName(ts []transform) string {
	var parts []string
	for rank := 0; rank < 4; rank++ { // a stable sort by rank
		for _, t := range ts {
			if typeRank(t.typ) == rank {
				slicex.Strings(&parts, transformLabel(t))
			}
		}
	}
	return strings.Join(parts, "-")
}

func transformLabel(t transform) string {
	n, ok := transformName(t.typ, t.id)
	switch {
	case !ok:
		return strconv.Itoa(int(t.typ)) + ":" + strconv.Itoa(int(t.id))
	case t.typ != trENCR:
	case strings.Contains(n, "%d"):
		n = strings.Replace(n, "%d", strconv.Itoa(int(t.keyLen)), 1)
	case t.keyLen != 0:
		n += strconv.Itoa(int(t.keyLen))
	}
	return n
}
