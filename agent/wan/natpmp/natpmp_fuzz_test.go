package natpmp

import (
	"errors"
	"testing"
)

// FuzzDecode: any datagram a hostile LAN or WAN host sends is either an
// error or an IPv4 external address, never a panic; a result code is
// reported as *ResultError only for a well-formed answer.
func FuzzDecode(f *testing.F) {
	f.Add(reply(0, 77, "198.51.100.2"))
	f.Add(reply(2, 1, "0.0.0.0"))
	f.Add(append(reply(0, 1, "203.0.113.5"), 0, 0))
	f.Add([]byte{2, 128})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Decode(b)
		var re *ResultError
		switch {
		case err == nil:
			if !res.External.Is4() {
				t.Fatalf("%x: accepted without an IPv4 address: %+v", b, res)
			}
		case errors.As(err, &re):
			if len(b) < replyLen || re.Code == 0 {
				t.Fatalf("%x: result error %v from a malformed answer", b, err)
			}
		case res.External.IsValid():
			t.Fatalf("%x: error %v with address %v", b, err, res.External)
		}
	})
}
