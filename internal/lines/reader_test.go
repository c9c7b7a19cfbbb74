package lines

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// readAll drains r with a pattern of ReadSlice and Read calls and records
// every result, so two readers can be compared call by call.
type reader interface {
	ReadSlice(byte) ([]byte, error)
	Read([]byte) (int, error)
}

func trace(r reader, pattern []byte) []string {
	var out []string
	for i := 0; i < 200; i++ {
		op := pattern[i%len(pattern)]
		var got []byte
		var err error
		if op%3 == 0 {
			p := make([]byte, int(op%7)+1)
			n, e := r.Read(p)
			got, err = p[:n], e
		} else {
			got, err = r.ReadSlice('\n')
		}
		if errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, ErrBufferFull) {
			err = errors.New("buffer full")
		}
		out = append(out, string(got)+"|"+errString(err))
		if err == io.EOF && len(got) == 0 {
			return out
		}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Reader behaves as bufio.Reader for what vpnpass uses: the same bytes and
// errors per call, whatever the underlying reader's chunking.
func TestReaderLikeBufio(t *testing.T) {
	inputs := []string{"", "a", "a\n", "line one\nline two\n\nlast", "x\r\ny\r\n", string(bytes.Repeat([]byte("0123456789"), 5)) + "\n" + "tail"}
	chunkers := map[string]func(io.Reader) io.Reader{
		"plain":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	}
	patterns := [][]byte{{1}, {0, 1}, {3, 1, 1}, {6, 2}}
	for _, in := range inputs {
		for name, chunk := range chunkers {
			for _, pat := range patterns {
				want := trace(bufio.NewReaderSize(chunk(bytes.NewReader([]byte(in))), 16), pat)
				got := trace(NewReader(chunk(bytes.NewReader([]byte(in))), 16), pat)
				if len(got) != len(want) {
					t.Fatalf("%q %s %v: %d calls, bufio %d:\n%q\n%q", in, name, pat, len(got), len(want), got, want)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%q %s %v: call %d = %q, bufio %q", in, name, pat, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// A timeout (any error) is returned once, after the buffered bytes; the
// next read reads again, as bufio does (the API server's deadlines).
func TestReaderErrorOnce(t *testing.T) {
	r := NewReader(iotest.TimeoutReader(bytes.NewReader([]byte("ab\ncd\n"))), 16)
	if b, err := r.ReadSlice('\n'); string(b) != "ab\n" || err != nil {
		t.Fatalf("first: %q %v", b, err)
	}
	if b, err := r.ReadSlice('\n'); string(b) != "cd\n" || err != nil {
		t.Fatalf("second: %q %v", b, err)
	}
	if _, err := r.ReadSlice('\n'); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("third: %v, want the timeout", err)
	}
	if b, err := r.ReadSlice('\n'); len(b) != 0 || err != io.EOF {
		t.Fatalf("after the timeout: %q %v, want EOF", b, err)
	}
}

func TestReadBytesLong(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 100)) + "\nrest"
	r := NewReader(bytes.NewReader([]byte(long)), 16)
	b, err := r.ReadBytes('\n')
	if err != nil || string(b) != long[:101] {
		t.Fatalf("ReadBytes = %d bytes, %v", len(b), err)
	}
	if b, err := r.ReadBytes('\n'); string(b) != "rest" || err != io.EOF {
		t.Fatalf("tail = %q %v", b, err)
	}
}

func FuzzReaderLikeBufio(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), []byte{1, 0, 3})
	f.Fuzz(func(t *testing.T, in, pat []byte) {
		if len(pat) == 0 {
			pat = []byte{1}
		}
		want := trace(bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(in)), 16), pat)
		got := trace(NewReader(iotest.HalfReader(bytes.NewReader(in)), 16), pat)
		if len(got) != len(want) {
			t.Fatalf("%d calls, bufio %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("call %d = %q, bufio %q", i, got[i], want[i])
			}
		}
	})
}
