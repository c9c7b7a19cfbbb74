// Package lines reads text line by line, as bufio.Scanner with ScanLines
// does (the newline and a '\r' before it dropped, a last line without a
// newline kept, no empty token at the end), through this package's Reader.
//
// Why: bufio's Scanner, Reader and Writer with their errors cost ~11 KB of
// a mips binary; vpnpass's line protocols need only ReadSlice. Unlike
// Scanner, a line longer than 64 KiB is read whole instead of ending the
// scan with ErrTooLong.
package lines

import (
	"io"
	"strings"
)

// Each calls fn with every line of r and returns the first read error
// (nil at the end of r).
func Each(r io.Reader, fn func(line string)) error {
	br := NewReader(r, 4096)
	for {
		raw, err := br.ReadBytes('\n')
		line := string(raw)
		if line != "" {
			line = strings.TrimSuffix(line, "\n")
			fn(strings.TrimSuffix(line, "\r"))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
