package nfteval

import "bytes"

// tri is a three-valued truth: what we know about a match.
type tri int8

const (
	no tri = iota
	yes
	maybe
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return maybe
}

func (t tri) and(u tri) tri {
	switch {
	case t == no || u == no:
		return no
	case t == yes && u == yes:
		return yes
	}
	return maybe
}

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// kbytes is a byte string of which only some bytes are known: the value a
// register holds when part of the packet (say its source address) is not
// given. It is a pointer: a kval is never changed once made (only the bytes
// its slices share), and passing, returning and storing one word instead of
// two slices is much less code on mips (every copy a loop, every heap store
// two write barriers).
type kbytes = *kval

type kval struct {
	v     []byte
	known []bool
}

// known returns fully known bytes.
func knownBytes(b []byte) kbytes {
	k := make([]bool, len(b))
	for i := range k {
		k[i] = true
	}
	return &kval{v: append([]byte(nil), b...), known: k}
}

// unknownBytes returns n unknown bytes.
func unknownBytes(n int) kbytes {
	return &kval{v: make([]byte, n), known: make([]bool, n)}
}

func (b *kval) allKnown() bool {
	for _, k := range b.known {
		if !k {
			return false
		}
	}
	return true
}

// bounds returns the smallest and largest values the bytes can hold.
func (b *kval) bounds() (lo, hi []byte) {
	lo, hi = make([]byte, len(b.v)), make([]byte, len(b.v))
	for i, x := range b.v {
		if b.known[i] {
			lo[i], hi[i] = x, x
		} else {
			lo[i], hi[i] = 0x00, 0xff
		}
	}
	return lo, hi
}

// eq compares with fully known data as the kernel's memcmp does, over
// len(data) bytes: any known byte that differs settles it.
func (b *kval) eq(data []byte) tri {
	if len(b.v) < len(data) {
		return maybe
	}
	out := yes
	for i, d := range data {
		if !b.known[i] {
			out = maybe
		} else if b.v[i] != d {
			return no
		}
	}
	return out
}

// order compares b with data (memcmp order, big-endian numbers) and returns
// the sign of b-data when it is the same for every value b can hold.
func (b *kval) order(data []byte) (sign int, sure bool) {
	if len(b.v) < len(data) {
		return 0, false
	}
	lo, hi := b.bounds()
	l := bytes.Compare(lo[:len(data)], data)
	h := bytes.Compare(hi[:len(data)], data)
	if l == h {
		return l, true
	}
	return 0, false
}

// inRange tells whether from <= b <= to (memcmp order) over len(from) bytes.
func (b *kval) inRange(from, to []byte) tri {
	n := len(from)
	if len(b.v) < n || len(to) < n {
		return maybe
	}
	lo, hi := b.bounds()
	lo, hi = lo[:n], hi[:n]
	if bytes.Compare(lo, from) >= 0 && bytes.Compare(hi, to[:n]) <= 0 {
		return yes
	}
	if bytes.Compare(hi, from) < 0 || bytes.Compare(lo, to[:n]) > 0 {
		return no
	}
	return maybe
}

// clone copies b, so a case split can change one copy.
func (b *kval) clone() kbytes {
	return &kval{v: append([]byte(nil), b.v...), known: append([]bool(nil), b.known...)}
}

// slice returns bytes [off, off+n), unknown where b is too short.
func (b *kval) slice(off, n int) kbytes {
	if off+n <= len(b.v) {
		return &kval{v: b.v[off : off+n], known: b.known[off : off+n]}
	}
	out := unknownBytes(n)
	for i := 0; i < n; i++ {
		if j := off + i; j < len(b.v) {
			out.v[i], out.known[i] = b.v[j], b.known[j]
		}
	}
	return out
}

// regFile models the kernel's nft_regs: the verdict area and the data
// registers, 4 bytes per 32-bit register.
type regFile struct {
	v     [regBytes]byte
	known [regBytes]bool
}

const regBytes = 4 * 20 // NFT_REG32_NUM

// regOffset maps a register number (NFT_REG_1..4 of 16 bytes, or
// NFT_REG32_00..15) to a byte offset, as nft_parse_register does.
func regOffset(reg uint32) (int, bool) {
	switch {
	case reg >= 1 && reg <= 4:
		return int(reg) * 16, true
	case reg >= 8 && reg <= 23:
		return (int(reg) - 4) * 4, true
	}
	return 0, false
}

// load writes a value. Loads clear the rest of their last 32-bit word (the
// kernel stores u8/u16 values as zero-padded u32, and payload loads zero the
// last word first), so pad is true for them.
func (r *regFile) load(reg uint32, b kbytes, pad bool) {
	off, ok := regOffset(reg)
	if !ok {
		return
	}
	n := len(b.v)
	if pad {
		n = (n + 3) &^ 3
	}
	for i := 0; i < n && off+i < regBytes; i++ {
		if i < len(b.v) {
			r.v[off+i], r.known[off+i] = b.v[i], b.known[i]
		} else {
			r.v[off+i], r.known[off+i] = 0, true
		}
	}
}

// taint forgets n bytes from reg (n <= 0: to the end of the file), for a
// value we cannot know.
func (r *regFile) taint(reg uint32, n int) {
	off, ok := regOffset(reg)
	if !ok {
		return
	}
	end := regBytes
	if n > 0 && off+((n+3)&^3) < end {
		end = off + ((n + 3) &^ 3)
	}
	for i := off; i < end; i++ {
		r.known[i] = false
	}
}

// read returns n bytes from reg: a view into the file, valid until the
// next write.
func (r *regFile) read(reg uint32, n int) kbytes {
	n = max(0, min(n, regBytes)) // lengths come from the wire: never more than the file
	off, ok := regOffset(reg)
	if !ok || off+n > regBytes {
		return unknownBytes(n)
	}
	return &kval{v: r.v[off : off+n], known: r.known[off : off+n]}
}

// bitwise computes (src & mask) ^ xor, as nft_bitwise does for whole 32-bit
// words (mask and xor are zero past their length). A byte is known when src
// is, or when the mask clears it.
func bitwise(src kbytes, mask, xor []byte) kbytes {
	n := (len(mask) + 3) &^ 3
	out := unknownBytes(n)
	for i := 0; i < n; i++ {
		var m, x byte
		if i < len(mask) {
			m = mask[i]
		}
		if i < len(xor) {
			x = xor[i]
		}
		switch {
		case m == 0:
			out.v[i], out.known[i] = x, true
		case i < len(src.v) && src.known[i]:
			out.v[i], out.known[i] = (src.v[i]&m)^x, true
		}
	}
	return out
}

// swapChunks converts between network and host byte order in chunks of size
// bytes (byteorder expression); on a big-endian host it copies.
func swapChunks(src kbytes, size int, bigEndianHost bool) kbytes {
	out := src.clone()
	if bigEndianHost || size <= 1 {
		return out
	}
	for c := 0; c+size <= len(out.v); c += size {
		for i := 0; i < size; i++ {
			out.v[c+i], out.known[c+i] = src.v[c+size-1-i], src.known[c+size-1-i]
		}
	}
	return out
}
