// Command po2lmo compiles a gettext .po catalog into LuCI's .lmo format,
// the job of LuCI's own po2lmo (which Debian does not package), and writes
// the .pot template of a LuCI app from its views and menu.
//
//	po2lmo IN.po OUT.lmo
//	po2lmo -pot OUT.pot FILE.js|FILE.json...
//
// Paths in the template's "#:" references are written as given.
package main

import (
	"fmt"
	"os"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "po2lmo:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) >= 3 && args[0] == "-pot":
		srcs, err := lmo.Scan(args[2:])
		if err != nil {
			return err
		}
		return os.WriteFile(args[1], []byte(lmo.WritePOT(srcs)), 0o644)
	case len(args) == 2:
		return compile(args[0], args[1])
	}
	return fmt.Errorf("usage: po2lmo IN.po OUT.lmo | po2lmo -pot OUT.pot FILE...")
}

func compile(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, plural, err := lmo.ParsePO(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	b, err := lmo.WriteLMO(entries, plural)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return os.WriteFile(out, b, 0o644)
}
