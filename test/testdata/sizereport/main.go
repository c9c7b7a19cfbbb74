// Command sizereport groups the symbols of two unstripped Go binaries by
// package and prints the packages whose bytes differ most (first minus
// second). test/bench-size.sh runs it on vpnpass and on test/testdata/sizefloor
// to show what our code and its extra stdlib cost on top of the libraries.
//
// Symbol sizes cover .text, .rodata, .data and .noptrdata (BSS has no file
// bytes). A stripped binary also carries .gopclntab (function names, line and
// stack tables), which has no per-package symbols; the "+pcln" column adds
// each package's share of it in proportion to its code (an estimate).
//
// The file size of a stripped binary moves in 64 KiB steps on mips (segments
// are page aligned), which hides small savings; -content prints the bytes of
// each binary's sections instead, a figure that moves byte by byte.
//
// -heavy lists stdlib parts that one careless call links and that vpnpass
// has worked to keep out (see the comments at the calls that avoid them).
//
// Usage: sizereport [-n 25] ours floor | sizereport -content file... |
// sizereport -heavy ours
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/vpnpass/vpnpass/build/sizerules"
)

type sizes struct {
	byPkg  map[string]int64
	textOf map[string]int64 // code bytes by package, for the pclntab share
	text   int64            // all code bytes
	pcln   int64            // .gopclntab size
}

func main() {
	n := flag.Int("n", 25, "rows to print")
	content := flag.Bool("content", false, "print the section bytes of each file")
	heavy := flag.Bool("heavy", false, "list avoidable heavy stdlib parts linked into the file")
	flag.Parse()
	if *heavy && flag.NArg() == 1 {
		if err := reportHeavy(flag.Arg(0)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *content {
		for _, path := range flag.Args() {
			b, err := contentBytes(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Println(b)
		}
		return
	}
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: sizereport [-n rows] ours floor")
		os.Exit(2)
	}
	ours, err := load(flag.Arg(0))
	if err == nil {
		var floor sizes
		if floor, err = load(flag.Arg(1)); err == nil {
			report(ours, floor, *n)
			return
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// contentBytes sums the sections that occupy file bytes, without the
// padding between segments.
func contentBytes(path string) (int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS {
			n += int64(sec.Size)
		}
	}
	return n, nil
}

func load(path string) (sizes, error) {
	f, err := elf.Open(path)
	if err != nil {
		return sizes{}, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return sizes{}, fmt.Errorf("%s: %w (build without -s -w)", path, err)
	}
	s := sizes{byPkg: map[string]int64{}, textOf: map[string]int64{}}
	if sec := f.Section(".gopclntab"); sec != nil {
		s.pcln = int64(sec.Size)
	}
	for _, sym := range syms {
		if int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[sym.Section]
		if sec.Type == elf.SHT_NOBITS {
			continue
		}
		pkg := pkgOf(sym.Name)
		s.byPkg[pkg] += int64(sym.Size)
		if sec.Name == ".text" {
			s.textOf[pkg] += int64(sym.Size)
			s.text += int64(sym.Size)
		}
	}
	return s, nil
}

// pkgOf maps a symbol to its package path: the part before the first dot
// after the last slash, ignoring generic type arguments in brackets.
func pkgOf(name string) string {
	switch {
	case strings.HasPrefix(name, "type:"):
		return "type:*"
	case strings.HasPrefix(name, "go:"):
		if i := strings.IndexByte(name, '.'); i > 0 {
			return name[:i]
		}
		return name
	}
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/') + 1
	if i := strings.IndexByte(name[slash:], '.'); i >= 0 {
		return name[:slash+i]
	}
	return name
}

func report(ours, floor sizes, n int) {
	type row struct {
		pkg         string
		ours, floor int64
	}
	var rows []row
	var total int64
	for p, v := range ours.byPkg {
		rows = append(rows, row{p, v, floor.byPkg[p]})
		total += v - floor.byPkg[p]
	}
	for p, v := range floor.byPkg {
		if _, ok := ours.byPkg[p]; !ok {
			rows = append(rows, row{p, 0, v})
			total -= v
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		di, dj := rows[i].ours-rows[i].floor, rows[j].ours-rows[j].floor
		if di != dj {
			return di > dj
		}
		return rows[i].pkg < rows[j].pkg
	})
	ratio := float64(ours.pcln) / float64(ours.text)
	fmt.Printf("%-48s %9s %9s %9s %9s\n", "package (symbols: text+rodata+data)", "ours", "floor", "delta", "+pcln")
	for i, r := range rows {
		if i == n {
			break
		}
		d := r.ours - r.floor
		code := ours.textOf[r.pkg] - floor.textOf[r.pkg]
		fmt.Printf("%-48s %9d %9d %9d %9d\n", short(r.pkg), r.ours, r.floor, d, d+int64(float64(code)*ratio))
	}
	fmt.Printf("%-48s %9s %9s %9d\n", "all symbols", "", "", total)
	fmt.Printf("%-48s %9d %9d %9d   (%.2f bytes per byte of code)\n", ".gopclntab", ours.pcln, floor.pcln, ours.pcln-floor.pcln, ratio)
}

func short(pkg string) string {
	return strings.Replace(pkg, "github.com/vpnpass/vpnpass/", "./", 1)
}

// reportHeavy prints, for every symbol rule of build/sizerules (the one list
// of what the release binary must not link), whether the binary links it.
func reportHeavy(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, r := range sizerules.Rules {
		if r.Symbol == "" {
			continue
		}
		n, bytes, err := sizerules.Linked(f, r.Symbol)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		state := "not linked"
		if n > 0 {
			state = fmt.Sprintf("LINKED: %d symbols, %d bytes", n, bytes)
		}
		fmt.Printf("%-34s %s (cost %s; use %s)\n", state, r.Why, r.Cost, r.Fix)
	}
	return nil
}
