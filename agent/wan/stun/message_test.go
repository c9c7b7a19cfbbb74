package stun

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// rfc5769ID is the transaction ID of the RFC 5769 sample responses.
var rfc5769ID = TxID{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae}

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			s.WriteString(strings.ReplaceAll(line, " ", ""))
		}
	}
	b, err := hex.DecodeString(s.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// attr is one attribute for the test encoder.
type attr struct {
	typ uint16
	val []byte
}

// encode builds a STUN message the way a server would (padding, length).
func encode(typ uint16, id TxID, attrs ...attr) []byte {
	b := make([]byte, headerLen)
	binary.BigEndian.PutUint16(b[0:2], typ)
	binary.BigEndian.PutUint32(b[4:8], magicCookie)
	copy(b[8:], id[:])
	for _, a := range attrs {
		b = binary.BigEndian.AppendUint16(b, a.typ)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.val)))
		b = append(b, a.val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)-headerLen))
	return b
}

// withFingerprint appends a correct FINGERPRINT attribute.
func withFingerprint(b []byte) []byte {
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)-headerLen+8))
	crc := crc32.ChecksumIEEE(b) ^ fingerprintXOR
	b = binary.BigEndian.AppendUint16(b, attrFingerprint)
	b = binary.BigEndian.AppendUint16(b, 4)
	return binary.BigEndian.AppendUint32(b, crc)
}

// addrValue encodes a (XOR-)MAPPED-ADDRESS value.
func addrValue(ap netip.AddrPort, xored bool, id TxID) []byte {
	a := ap.Addr().AsSlice()
	fam := byte(familyIPv4)
	if ap.Addr().Is6() {
		fam = familyIPv6
	}
	port := ap.Port()
	if xored {
		var key [16]byte
		binary.BigEndian.PutUint32(key[:4], magicCookie)
		copy(key[4:], id[:])
		port ^= magicCookie >> 16
		for i := range a {
			a[i] ^= key[i]
		}
	}
	v := []byte{0, fam}
	v = binary.BigEndian.AppendUint16(v, port)
	return append(v, a...)
}

func TestDecodeRFC5769(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"rfc5769-ipv4-response.hex", "192.0.2.1:32853"},
		{"rfc5769-ipv6-response.hex", "[2001:db8:1234:5678:11:2233:4455:6677]:32853"},
	} {
		got, err := Decode(readHex(t, tc.file), rfc5769ID)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got.String() != tc.want {
			t.Errorf("%s: mapped %s, want %s", tc.file, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	id := TxID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	other := TxID{12, 11, 10}
	pub := netip.MustParseAddrPort("198.51.100.2:40000")
	v6 := netip.MustParseAddrPort("[2001:db8::2]:40001")
	plain := netip.MustParseAddrPort("198.51.100.9:1")
	xorAttr := attr{attrXORMappedAddr, addrValue(pub, true, id)}
	good := encode(typeBindingSuccess, id, xorAttr)
	badFP := withFingerprint(good)
	badFP[len(badFP)-1] ^= 1
	tests := []struct {
		name    string
		msg     []byte
		want    netip.AddrPort
		wantErr error
		errCode int
	}{
		{"xor ipv4", good, pub, nil, 0},
		{"xor ipv6", encode(typeBindingSuccess, id, attr{attrXORMappedAddr, addrValue(v6, true, id)}), v6, nil, 0},
		{"old xor code", encode(typeBindingSuccess, id, attr{attrXORMappedOld, addrValue(pub, true, id)}), pub, nil, 0},
		{"mapped only", encode(typeBindingSuccess, id, attr{attrMappedAddress, addrValue(plain, false, id)}), plain, nil, 0},
		{"xor preferred", encode(typeBindingSuccess, id, attr{attrMappedAddress, addrValue(plain, false, id)}, xorAttr), pub, nil, 0},
		{"unknown attributes skipped", encode(typeBindingSuccess, id, attr{0x8022, []byte("coturn")}, attr{0x0005, []byte{1, 2, 3}}, xorAttr), pub, nil, 0},
		{"with fingerprint", withFingerprint(good), pub, nil, 0},
		{"bad fingerprint", badFP, netip.AddrPort{}, ErrFingerprint, 0},
		{"fingerprint not last", encode(typeBindingSuccess, id, attr{attrFingerprint, []byte{0, 0, 0, 0}}, xorAttr), netip.AddrPort{}, ErrFingerprint, 0},
		{"wrong transaction", encode(typeBindingSuccess, other, xorAttr), netip.AddrPort{}, ErrTransaction, 0},
		{"no address", encode(typeBindingSuccess, id, attr{0x8022, []byte("x")}), netip.AddrPort{}, ErrNoAddress, 0},
		{"request not response", BindingRequest(id, false), netip.AddrPort{}, ErrNotResponse, 0},
		{"short", good[:19], netip.AddrPort{}, ErrNotSTUN, 0},
		{"length field too big", setLength(good, len(good)-headerLen+4), netip.AddrPort{}, ErrNotSTUN, 0},
		{"length not a multiple of 4", setLength(good[:len(good)-1], len(good)-headerLen-1), netip.AddrPort{}, ErrNotSTUN, 0},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), netip.AddrPort{}, ErrNotSTUN, 0},
		{"truncated attribute", truncate(good, 4), netip.AddrPort{}, ErrTruncated, 0},
		{"address family bogus", encode(typeBindingSuccess, id, attr{attrXORMappedAddr, []byte{0, 3, 0, 1, 1, 2, 3, 4}}), netip.AddrPort{}, errBadAddrValue, 0},
		{"ipv4 value too short", encode(typeBindingSuccess, id, attr{attrXORMappedAddr, []byte{0, 1, 0, 1, 1, 2}}), netip.AddrPort{}, errBadAddrValue, 0},
		{"error response", encode(typeBindingError, id, attr{attrErrorCode, []byte{0, 0, 4, 20, 'U', 'n', 'k', '\n'}}), netip.AddrPort{}, nil, 420},
		{"error response without code", encode(typeBindingError, id), netip.AddrPort{}, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.msg, id)
			if tc.errCode != 0 {
				var er *ErrorResponse
				if !errors.As(err, &er) || (tc.errCode > 0 && er.Code != tc.errCode) {
					t.Fatalf("got %v, %v; want STUN error %d", got, err, tc.errCode)
				}
				if strings.ContainsAny(er.Reason, "\n") {
					t.Errorf("reason %q keeps a control character", er.Reason)
				}
				return
			}
			if tc.wantErr == nil && !tc.want.IsValid() {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// setLength copies b with its header length field set to n.
func setLength(b []byte, n int) []byte {
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
	return b
}

// truncate shortens the last attribute by n bytes while keeping the header
// length consistent with the message, as a buggy or hostile server might.
func truncate(b []byte, n int) []byte {
	b = append([]byte(nil), b[:len(b)-n]...)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)-headerLen))
	return b
}

func TestBindingRequest(t *testing.T) {
	id := TxID{9, 9, 9}
	for _, fp := range []bool{false, true} {
		b := BindingRequest(id, fp)
		if binary.BigEndian.Uint16(b[0:2]) != typeBindingRequest || [12]byte(b[8:20]) != id {
			t.Fatalf("fingerprint=%v: header %x", fp, b[:20])
		}
		if int(binary.BigEndian.Uint16(b[2:4])) != len(b)-headerLen {
			t.Fatalf("fingerprint=%v: length field does not match %d bytes", fp, len(b))
		}
		err := walkAttributes(b, func(typ uint16, v []byte, off int) error {
			if typ != attrFingerprint {
				t.Errorf("unexpected attribute %#x", typ)
			}
			return checkFingerprint(b, v, off)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	id := TxID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	pub := netip.MustParseAddrPort("198.51.100.2:40000")
	f.Add(readHex(f, "rfc5769-ipv4-response.hex"), rfc5769ID[:])
	f.Add(readHex(f, "rfc5769-ipv6-response.hex"), rfc5769ID[:])
	f.Add(encode(typeBindingSuccess, id, attr{attrXORMappedAddr, addrValue(pub, true, id)}), id[:])
	f.Add(withFingerprint(encode(typeBindingSuccess, id, attr{attrMappedAddress, addrValue(pub, false, id)})), id[:])
	f.Add(encode(typeBindingError, id, attr{attrErrorCode, []byte{0, 0, 4, 1, 'x'}}), id[:])
	f.Add(truncate(encode(typeBindingSuccess, id, attr{attrXORMappedAddr, addrValue(pub, true, id)}), 4), id[:])
	f.Fuzz(func(t *testing.T, msg, rawID []byte) {
		var id TxID
		copy(id[:], rawID)
		got, err := Decode(msg, id)
		if err == nil && !got.IsValid() {
			t.Fatalf("no error and no address for %x", msg)
		}
		if err != nil && got.IsValid() {
			t.Fatalf("error %v with address %v", err, got)
		}
	})
}

func TestCRC32IEEE(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 300; n++ {
		b := make([]byte, r.IntN(200))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := crc32IEEE(b), crc32.ChecksumIEEE(b); got != want {
			t.Fatalf("crc32IEEE(%x) = %08x, hash/crc32 says %08x", b, got, want)
		}
	}
}
