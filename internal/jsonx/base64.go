package jsonx

import "strconv"

// Standard base64 with padding, for []byte values (encoding/json's
// encoding). Not encoding/base64: its Encoding type, four encodings built at
// start-up and their decode maps cost ~9 KB of a mips binary for the one
// use here. The tests fuzz both functions against base64.StdEncoding.

const alphabet64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func appendBase64(b, src []byte) []byte {
	// One group of up to three bytes per turn, the tail padded: one append
	// site (each multi-byte append was ~200 B of mips code).
	for len(src) > 0 {
		n := min(len(src), 3)
		var v uint
		for i := 0; i < n; i++ {
			v |= uint(src[i]) << (16 - 8*i)
		}
		q := [4]byte{alphabet64[v>>18], alphabet64[v>>12&63], '=', '='}
		if n > 1 {
			q[2] = alphabet64[v>>6&63]
		}
		if n > 2 {
			q[3] = alphabet64[v&63]
		}
		b = append(b, q[:]...)
		src = src[n:]
	}
	return b
}

// base64Error is base64.CorruptInputError's message.
func base64Error(at int) error {
	return errorf("illegal base64 data at input byte " + strconv.Itoa(at))
}

func value64(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// decodeBase64 is base64.StdEncoding.DecodeString: CR and LF are skipped,
// padding is required, bits after the last byte are ignored, and errors
// name the same byte.
func decodeBase64(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/4*3)
	var v uint // the quantum's 6-bit groups so far
	j := 0     // how many
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\r' {
			continue
		}
		if x := value64(c); x >= 0 {
			v = v<<6 | uint(x)
			if j++; j == 4 {
				out = append(out, byte(v>>16), byte(v>>8), byte(v))
				v, j = 0, 0
			}
			continue
		}
		if c != '=' || j < 2 {
			return nil, base64Error(i)
		}
		i++
		if j == 2 { // a second '=' must follow
			i = skipNewlines(s, i)
			if i == len(s) {
				return nil, base64Error(len(s))
			}
			if s[i] != '=' {
				return nil, base64Error(i - 1)
			}
			i++
		}
		if i = skipNewlines(s, i); i < len(s) {
			return nil, base64Error(i)
		}
		v <<= 6 * uint(4-j)
		out = append(out, byte(v>>16))
		if j == 3 {
			out = append(out, byte(v>>8))
		}
		return out, nil
	}
	if j > 0 {
		return nil, base64Error(len(s) - j)
	}
	return out, nil
}

func skipNewlines(s string, i int) int {
	for i < len(s) && (s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}
