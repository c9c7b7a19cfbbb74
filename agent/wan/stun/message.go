// Package stun is a minimal STUN client (RFC 5389): it sends one Binding
// request over UDP and decodes the mapped address from the answer. It exists
// instead of a full STUN library to keep the router binary small; it speaks
// only what vpnpass needs to learn its public IPv4 address.
package stun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Message types and attribute codes used here (RFC 5389 sections 6, 15, 18).
const (
	headerLen   = 20
	magicCookie = 0x2112A442

	typeBindingRequest  = 0x0001
	typeBindingSuccess  = 0x0101
	typeBindingError    = 0x0111
	attrMappedAddress   = 0x0001
	attrErrorCode       = 0x0009
	attrXORMappedAddr   = 0x0020
	attrXORMappedOld    = 0x8020 // pre-RFC draft code some old servers still send
	attrFingerprint     = 0x8028
	fingerprintXOR      = 0x5354554e
	familyIPv4          = 0x01
	familyIPv6          = 0x02
	maxAttributesParsed = 64 // bound the work on hostile input
)

// TxID is a STUN transaction ID.
type TxID [12]byte

// Errors a caller may want to tell apart.
var (
	ErrNotSTUN      = errors.New("not a STUN message")
	ErrTransaction  = errors.New("transaction ID does not match the request")
	ErrNoAddress    = errors.New("response carries no mapped address")
	ErrFingerprint  = errors.New("FINGERPRINT does not match the message")
	ErrTruncated    = errors.New("attribute runs past the end of the message")
	ErrNotResponse  = errors.New("not a Binding response")
	errBadAddrValue = errors.New("malformed address attribute")
)

// ErrorResponse is a Binding error response from the server.
type ErrorResponse struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	Code   int
	Reason string
}

func (e *ErrorResponse) Error() string {
	return "STUN server answered error " + strconv.Itoa(int(e.Code)) + " " + e.Reason
}

// BindingRequest encodes a Binding request with the given transaction ID and,
// when fingerprint is set, a FINGERPRINT attribute.
func BindingRequest(id TxID, fingerprint bool) []byte {
	n := headerLen
	if fingerprint {
		n += 8
	}
	b := make([]byte, n)
	binary.BigEndian.PutUint16(b[0:2], typeBindingRequest)
	binary.BigEndian.PutUint16(b[2:4], uint16(n-headerLen))
	binary.BigEndian.PutUint32(b[4:8], magicCookie)
	copy(b[8:20], id[:])
	if fingerprint {
		binary.BigEndian.PutUint16(b[20:22], attrFingerprint)
		binary.BigEndian.PutUint16(b[22:24], 4)
		binary.BigEndian.PutUint32(b[24:28], crc32IEEE(b[:20])^fingerprintXOR)
	}
	return b
}

// Decode checks that b is a Binding response to the request with ID id and
// returns the mapped address, preferring XOR-MAPPED-ADDRESS over
// MAPPED-ADDRESS. A Binding error response yields *ErrorResponse. Unknown
// attributes are skipped: servers add many optional ones and a diagnostic
// client gains nothing from refusing them.
func Decode(b []byte, id TxID) (none netip.AddrPort, _ error) {
	typ, err := checkHeader(b, id)
	if err != nil {
		return none, err
	}
	var xor, plain netip.AddrPort
	var errResp *ErrorResponse
	n := 0
	err = walkAttributes(b, func(t uint16, v []byte, off int) error {
		if n++; n > maxAttributesParsed {
			return fmt.Errorf("more than %d attributes", maxAttributesParsed)
		}
		switch t {
		case attrXORMappedAddr, attrXORMappedOld:
			if !xor.IsValid() {
				a, err := decodeAddress(v, true, id)
				if err != nil {
					return fmt.Errorf("XOR-MAPPED-ADDRESS: %w", err)
				}
				xor = a
			}
		case attrMappedAddress:
			if !plain.IsValid() {
				a, err := decodeAddress(v, false, id)
				if err != nil {
					return fmt.Errorf("MAPPED-ADDRESS: %w", err)
				}
				plain = a
			}
		case attrErrorCode:
			errResp = decodeErrorCode(v)
		case attrFingerprint:
			return checkFingerprint(b, v, off)
		}
		return nil
	})
	switch {
	case err != nil:
		return none, err
	case typ == typeBindingError:
		if errResp == nil {
			errResp = &ErrorResponse{Reason: "(no ERROR-CODE attribute)"}
		}
		return none, errResp
	case xor.IsValid():
		return xor, nil
	case plain.IsValid():
		return plain, nil
	}
	return none, ErrNoAddress
}

// checkHeader validates the fixed header and returns the message type.
func checkHeader(b []byte, id TxID) (uint16, error) {
	if len(b) < headerLen {
		return 0, fmt.Errorf("%w: %d bytes, shorter than a header", ErrNotSTUN, len(b))
	}
	typ := binary.BigEndian.Uint16(b[0:2])
	if typ&0xc000 != 0 || binary.BigEndian.Uint32(b[4:8]) != magicCookie {
		return 0, fmt.Errorf("%w: bad leading bits or magic cookie", ErrNotSTUN)
	}
	length := int(binary.BigEndian.Uint16(b[2:4]))
	if length%4 != 0 || length != len(b)-headerLen {
		return 0, fmt.Errorf("%w: length field %d, %d bytes follow the header", ErrNotSTUN, length, len(b)-headerLen)
	}
	if typ != typeBindingSuccess && typ != typeBindingError {
		return 0, fmt.Errorf("%w: message type %#04x", ErrNotResponse, typ)
	}
	if [12]byte(b[8:20]) != id {
		return 0, ErrTransaction
	}
	return typ, nil
}

// walkAttributes calls fn for each attribute with its type, value and the
// offset of its header. Every length is checked against the message end.
func walkAttributes(b []byte, fn func(t uint16, v []byte, off int) error) error {
	for off := headerLen; off < len(b); {
		if len(b)-off < 4 {
			return fmt.Errorf("%w: %d bytes left for a 4-byte attribute header", ErrTruncated, len(b)-off)
		}
		t := binary.BigEndian.Uint16(b[off : off+2])
		l := int(binary.BigEndian.Uint16(b[off+2 : off+4]))
		padded := (l + 3) &^ 3
		if padded > len(b)-off-4 {
			return fmt.Errorf("%w: attribute %#04x says %d bytes, %d left", ErrTruncated, t, l, len(b)-off-4)
		}
		if err := fn(t, b[off+4:off+4+l], off); err != nil {
			return err
		}
		off += 4 + padded
	}
	return nil
}

// decodeAddress reads a (XOR-)MAPPED-ADDRESS value (RFC 5389 15.1, 15.2).
func decodeAddress(v []byte, xored bool, id TxID) (none netip.AddrPort, _ error) {
	if len(v) < 4 {
		return none, errBadAddrValue
	}
	port := binary.BigEndian.Uint16(v[2:4])
	var key [16]byte
	if xored {
		port ^= magicCookie >> 16
		binary.BigEndian.PutUint32(key[0:4], magicCookie)
		copy(key[4:], id[:])
	}
	switch {
	case v[1] == familyIPv4 && len(v) == 8:
		var a [4]byte
		for i := range a {
			a[i] = v[4+i] ^ key[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom4(a), port), nil
	case v[1] == familyIPv6 && len(v) == 20:
		var a [16]byte
		for i := range a {
			a[i] = v[4+i] ^ key[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), port), nil
	}
	return none, fmt.Errorf("%w: family %d with %d bytes", errBadAddrValue, v[1], len(v))
}

// decodeErrorCode reads ERROR-CODE (RFC 5389 15.6); a short value still
// yields an error response, just without details.
func decodeErrorCode(v []byte) *ErrorResponse {
	if len(v) < 4 {
		return &ErrorResponse{Reason: "(malformed ERROR-CODE)"}
	}
	code := int(v[2]&0x7)*100 + int(v[3])
	reason := v[4:]
	if len(reason) > 128 {
		reason = reason[:128]
	}
	return &ErrorResponse{Code: code, Reason: printable(reason)}
}

// checkFingerprint verifies FINGERPRINT, which must be the last attribute.
func checkFingerprint(b, v []byte, off int) error {
	if len(v) != 4 || off+8 != len(b) {
		return fmt.Errorf("%w: not a 4-byte last attribute", ErrFingerprint)
	}
	if binary.BigEndian.Uint32(v) != crc32IEEE(b[:off])^fingerprintXOR {
		return ErrFingerprint
	}
	return nil
}

// printable keeps a server-supplied reason phrase safe to log.
func printable(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}

// crc32IEEE is CRC-32 (IEEE, as hash/crc32.ChecksumIEEE), bit by bit: the
// FINGERPRINT covers a few dozen bytes, and hash/crc32's tables and
// per-architecture code cost ~5 KiB on mips. message_test checks it
// against hash/crc32.
func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for i := 0; i < 8; i++ {
			crc = crc>>1 ^ 0xedb88320&-(crc&1)
		}
	}
	return ^crc
}
