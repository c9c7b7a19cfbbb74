package lines

import (
	"bytes"
	"errors"
	"io"
)

// ErrBufferFull is ReadSlice's error when the buffer filled before the
// delimiter came (bufio.ErrBufferFull's meaning).
var ErrBufferFull = errors.New("lines: buffer full")

// Reader is the part of bufio.Reader vpnpass uses (ReadSlice, Read) for
// its line protocols: the API socket, HTTP to an IGD, text files. Why not
// bufio: nothing else links it, and bufio's Reader and Writer with their
// error values cost ~7 KB of the mips binary. Like bufio.Reader, a read
// error is returned once, after the buffered bytes, and then forgotten (a
// deadline's timeout does not end the stream).
type Reader struct {
	rd   io.Reader
	buf  []byte
	r, w int
	err  error
}

// NewReader returns a Reader on rd with a buffer of size bytes (4096 when
// size is not positive).
func NewReader(rd io.Reader, size int) *Reader {
	if size <= 0 {
		size = 4096
	}
	return &Reader{rd: rd, buf: make([]byte, size)}
}

// ReadSlice reads until the first delim and returns the bytes up to and
// including it, a view into the buffer valid until the next read. Without
// delim it returns what is buffered with the read error, or ErrBufferFull
// when the buffer is full (bufio.Reader.ReadSlice's contract).
func (b *Reader) ReadSlice(delim byte) ([]byte, error) {
	searched := 0
	for {
		if i := bytes.IndexByte(b.buf[b.r+searched:b.w], delim); i >= 0 {
			line := b.buf[b.r : b.r+searched+i+1]
			b.r += searched + i + 1
			return line, nil
		}
		if b.err != nil {
			line := b.buf[b.r:b.w]
			b.r = b.w
			return line, b.readErr()
		}
		if b.w-b.r == len(b.buf) {
			line := b.buf[b.r:b.w]
			b.r = b.w
			return line, ErrBufferFull
		}
		searched = b.w - b.r
		b.fill()
	}
}

// ReadBytes reads until the first delim and returns a copy of the bytes up
// to and including it, however long (bufio.Reader.ReadBytes).
func (b *Reader) ReadBytes(delim byte) ([]byte, error) {
	var out []byte
	for {
		frag, err := b.ReadSlice(delim)
		out = append(out, frag...)
		if err != ErrBufferFull {
			return out, err
		}
	}
}

// Read reads what is buffered, or reads once from the underlying reader.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		b.r, b.w = 0, 0
		b.fill()
		if b.r == b.w {
			return 0, b.readErr()
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// fill reads once more into the buffer (after moving the unread bytes to
// its start); a reader that returns nothing 100 times is an error.
func (b *Reader) fill() {
	if b.r > 0 {
		copy(b.buf, b.buf[b.r:b.w])
		b.w -= b.r
		b.r = 0
	}
	for i := 0; i < 100; i++ {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			b.err = errors.New("lines: reader returned an invalid count")
			return
		}
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = io.ErrNoProgress
}

func (b *Reader) readErr() error {
	err := b.err
	b.err = nil
	return err
}
