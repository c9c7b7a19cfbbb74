package nfteval

import (
	"bytes"
	"testing"
)

// partly returns bytes where a '?' in mask marks an unknown byte.
func partly(v []byte, mask string) kbytes {
	k := knownBytes(v)
	for i, c := range mask {
		if c == '?' {
			k.known[i] = false
		}
	}
	return k
}

func TestKbytesCompare(t *testing.T) {
	addr := partly([]byte{192, 168, 0, 0}, "..??") // 192.168.x.y
	cases := []struct {
		name string
		got  tri
		want tri
	}{
		{"eq known", knownBytes([]byte{1, 2}).eq([]byte{1, 2}), yes},
		{"eq differs", knownBytes([]byte{1, 2}).eq([]byte{1, 3}), no},
		{"eq prefix only", knownBytes([]byte{'e', 't', 'h', '0'}).eq([]byte("eth")), yes},
		{"eq unknown tail", addr.eq([]byte{192, 168, 1, 10}), maybe},
		{"eq known head differs", addr.eq([]byte{10, 168, 1, 10}), no},
		{"range inside", addr.inRange([]byte{192, 168, 0, 0}, []byte{192, 168, 255, 255}), yes},
		{"range outside", addr.inRange([]byte{203, 0, 113, 0}, []byte{203, 0, 113, 255}), no},
		{"range straddles", addr.inRange([]byte{192, 168, 1, 0}, []byte{192, 168, 1, 255}), maybe},
		{"not maybe", maybe.not(), maybe},
		{"and no wins", maybe.and(no), no},
		{"and maybe", yes.and(maybe), maybe},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if s, sure := knownBytes([]byte{0x01, 0xf4}).order([]byte{0x01, 0xf5}); !sure || s >= 0 {
		t.Errorf("500 vs 501: %d %v", s, sure)
	}
	if s, sure := partly([]byte{0x01, 0}, ".?").order([]byte{0x02, 0x00}); !sure || s >= 0 {
		t.Errorf("0x01?? < 0x0200 should be sure: %d %v", s, sure)
	}
	if _, sure := partly([]byte{0x01, 0}, ".?").order([]byte{0x01, 0x80}); sure {
		t.Error("0x01?? vs 0x0180 cannot be sure")
	}
}

func TestBitwise(t *testing.T) {
	// A /20 mask over an unknown last octet still knows the first three.
	src := partly([]byte{10, 1, 0x1f, 0}, "...?")
	got := bitwise(src, []byte{255, 255, 0xf0, 0}, []byte{0, 0, 0, 0})
	want := knownBytes([]byte{10, 1, 0x10, 0})
	if !bytes.Equal(got.v, want.v) || !got.allKnown() {
		t.Errorf("bitwise = %v %v, want %v all known", got.v, got.known, want.v)
	}
	// A mask byte that keeps an unknown byte leaves it unknown.
	if got := bitwise(partly([]byte{1, 0}, ".?"), []byte{0xff, 0x0f}, []byte{0, 0}); got.known[1] {
		t.Error("masked unknown byte became known")
	}
	// Short masks clear the rest of the 32-bit word, as the kernel does.
	if got := bitwise(knownBytes([]byte{7, 7, 7, 7}), []byte{1}, []byte{0}); len(got.v) != 4 || got.v[3] != 0 || !got.known[3] {
		t.Errorf("short mask: %v %v", got.v, got.known)
	}
}

func TestSwapChunks(t *testing.T) {
	in := partly([]byte{1, 2, 3, 4}, "?...")
	le := swapChunks(in, 4, false)
	if !bytes.Equal(le.v, []byte{4, 3, 2, 1}) || le.known[3] || !le.known[0] {
		t.Errorf("little-endian host: %v %v", le.v, le.known)
	}
	if be := swapChunks(in, 4, true); !bytes.Equal(be.v, in.v) {
		t.Errorf("big-endian host must copy: %v", be.v)
	}
	if two := swapChunks(knownBytes([]byte{1, 2, 3, 4}), 2, false); !bytes.Equal(two.v, []byte{2, 1, 4, 3}) {
		t.Errorf("16-bit chunks: %v", two.v)
	}
}

func TestRegFile(t *testing.T) {
	// NFT_REG_1 and NFT_REG32_00 are the same bytes; NFT_REG_2 is NFT_REG32_04.
	for _, c := range []struct{ a, b uint32 }{{1, 8}, {2, 12}, {4, 20}} {
		oa, _ := regOffset(c.a)
		ob, _ := regOffset(c.b)
		if oa != ob {
			t.Errorf("reg %d at %d, reg %d at %d", c.a, oa, c.b, ob)
		}
	}
	if _, ok := regOffset(5); ok {
		t.Error("register 5 accepted")
	}
	var r regFile
	r.taint(1, 0)
	r.load(1, knownBytes([]byte{17}), true) // meta l4proto: u8 stored as a zero-padded u32
	if got := r.read(1, 4); !got.allKnown() || !bytes.Equal(got.v, []byte{17, 0, 0, 0}) {
		t.Errorf("padded load: %v %v", got.v, got.known)
	}
	if got := r.read(9, 4); got.allKnown() {
		t.Error("register 9 known after taint to the end")
	}
	r.load(9, knownBytes([]byte{1, 2, 3, 4}), true)
	r.load(11, knownBytes([]byte{5, 6, 7, 8}), true)
	r.taint(10, 2)
	if !r.read(9, 4).allKnown() || r.read(10, 4).allKnown() || !r.read(11, 4).allKnown() {
		t.Error("taint of 2 bytes at reg 10 must forget reg 10 only")
	}
}
