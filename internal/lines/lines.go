// Package lines reads text line by line, as bufio.Scanner with ScanLines
// does (the newline and a '\r' before it dropped, a last line without a
// newline kept, no empty token at the end), through bufio.Reader.
//
// Why: bufio.Scanner's Scan, split function and errors cost ~4.5 KB of a
// mips binary next to bufio.Reader, which vpnpass links anyway. Unlike
// Scanner, a line longer than 64 KiB is read whole instead of ending the
// scan with ErrTooLong.
package lines

import (
	"bufio"
	"io"
	"strings"
)

// Each calls fn with every line of r and returns the first read error
// (nil at the end of r).
func Each(r io.Reader, fn func(line string)) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
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
