package probe

import "math/bits"

// sha1Sum is SHA-1 (RFC 3174), for the NAT_DETECTION_*_IP hashes only: no
// secret is involved, the hash merely tells the server which addresses we
// saw. It is here because crypto/sha1 links Go's FIPS 140 module (about
// 190 KiB on linux/mips), a tenth of the router binary's remaining budget;
// the test checks it against crypto/sha1.
func sha1Sum(msg []byte) [20]byte {
	h := [5]uint32{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}
	// Padding: 0x80, zeros to 56 mod 64, then the length in bits.
	n := len(msg)
	padded := make([]byte, (n+8)/64*64+64)
	copy(padded, msg)
	padded[n] = 0x80
	be.PutUint64(padded[len(padded)-8:], uint64(n)*8)

	var w [80]uint32
	for block := padded; len(block) > 0; block = block[64:] {
		for i := 0; i < 16; i++ {
			w[i] = be.Uint32(block[4*i:])
		}
		for i := 16; i < 80; i++ {
			w[i] = bits.RotateLeft32(w[i-3]^w[i-8]^w[i-14]^w[i-16], 1)
		}
		a, b, c, d, e := h[0], h[1], h[2], h[3], h[4]
		for i := 0; i < 80; i++ {
			var f, k uint32
			switch {
			case i < 20:
				f, k = b&c|^b&d, 0x5A827999
			case i < 40:
				f, k = b^c^d, 0x6ED9EBA1
			case i < 60:
				f, k = b&c|b&d|c&d, 0x8F1BBCDC
			default:
				f, k = b^c^d, 0xCA62C1D6
			}
			t := bits.RotateLeft32(a, 5) + f + e + k + w[i]
			a, b, c, d, e = t, a, bits.RotateLeft32(b, 30), c, d
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
	}
	var out [20]byte
	for i, v := range h {
		be.PutUint32(out[4*i:], v)
	}
	return out
}
