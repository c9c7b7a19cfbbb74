package probe

import (
	"crypto/sha1"
	"testing"
)

// TestSHA1 checks sha1Sum against crypto/sha1 on every length around the
// padding boundaries (55/56/64 bytes) and beyond one block, with the RFC
// 3174 vector first.
func TestSHA1(t *testing.T) {
	if got := sha1Sum([]byte("abc")); got != [20]byte{0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d} {
		t.Errorf("sha1(abc) = %x", got)
	}
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(msg); n++ {
		if got, want := sha1Sum(msg[:n]), sha1.Sum(msg[:n]); got != want {
			t.Errorf("length %d: %x, want %x", n, got, want)
		}
	}
}
