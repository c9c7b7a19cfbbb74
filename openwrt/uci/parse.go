package uci

import (
	"bytes"
	"os"
	"strconv"

	"github.com/vpnpass/vpnpass/internal/errx"
)

// Parse reads a UCI file. It follows libuci's tokenizer (file.c) closely:
// the input is read a line at a time and a quoted value or a trailing
// backslash pulls in the next line. Where libuci is inconsistent we choose:
//   - ';' always ends a command and another may follow on the line (libuci
//     silently drops the rest of the line after an unquoted word and ';');
//   - a NUL byte is an error (libuci cuts the line there);
//   - several different `package` names in one file are an error (that is
//     `uci import` of several packages, not a config file).
func Parse(src []byte) (*File, error) {
	p := &parser{src: src, f: &File{}}
	p.indexLines()
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return nil, p.errAt(i, "NUL byte in input")
	}
	for p.pos < len(src) {
		p.end = p.pos
		p.extend()
		if err := p.parseLine(); err != nil {
			return nil, err
		}
		p.pos = p.end
	}
	return p.f, nil
}

// ParseFile reads and parses the file at path; errors name the path.
func ParseFile(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(src)
	if pe, ok := errx.As[*Error](err); ok {
		pe.File = path
	}
	return f, err
}

type parser struct {
	src        []byte
	pos, end   int   // end: end of the current (possibly extended) line buffer
	lineStarts []int // offsets where each line begins
	f          *File
	sec        *Section // section options go to
	stmt       int      // offset of the current statement's keyword
}

func (p *parser) indexLines() {
	p.lineStarts = []int{0}
	for i, c := range p.src {
		if c == '\n' && i+1 < len(p.src) {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
}

// lineAt returns the 1-based line of byte offset off.
// (sort.Search's bisection written out: no closure.)
func (p *parser) lineAt(off int) int {
	lo, hi := 0, len(p.lineStarts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.lineStarts[m] > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (p *parser) errAt(off int, msg string) error {
	return &Error{Line: p.lineAt(off), Msg: msg}
}

// extend appends the next input line to the buffer (libuci's uci_getln).
func (p *parser) extend() bool {
	if p.end >= len(p.src) {
		return false
	}
	if i := bytes.IndexByte(p.src[p.end:], '\n'); i >= 0 {
		p.end += i + 1
	} else {
		p.end = len(p.src)
	}
	return true
}

// cur is the current character, 0 at the end of the buffer.
func (p *parser) cur() byte { return p.at(p.pos) }

func (p *parser) at(i int) byte {
	if i >= p.end {
		return 0
	}
	return p.src[i]
}

func (p *parser) skipSpace() {
	for c := p.cur(); c != 0 && isSpace(c); c = p.cur() {
		p.pos++
	}
}

// parseLine parses the commands of one line buffer (libuci's uci_parse_line).
func (p *parser) parseLine() error {
	p.skipSpace()
	for {
		for c := p.cur(); c == ' ' || c == '\t'; c = p.cur() {
			p.pos++
		}
		if p.cur() == 0 {
			return nil
		}
		p.stmt = p.pos
		for c := p.cur(); c != 0 && !isSpace(c) && c != ';'; c = p.cur() {
			p.pos++
		}
		word := string(p.src[p.stmt:p.pos])
		if word == "" || word[0] == '#' {
			if word == "" { // a lone ';'
				p.pos++
				continue
			}
			return nil
		}
		if err := p.command(word); err != nil {
			return err
		}
		p.skipSpace()
		if p.cur() == ';' {
			p.pos++
		}
	}
}

func (p *parser) command(word string) error {
	kw := keyword(word)
	if kw == "" {
		return p.errAt(p.stmt, "invalid command "+strconv.Quote(word)+" (want package, config, option or list)")
	}
	if c := p.cur(); c != ' ' && c != '\t' {
		return p.errAt(p.stmt, kw+" without arguments")
	}
	p.pos++
	switch kw {
	case "package":
		return p.parsePackage()
	case "config":
		return p.parseConfig()
	case "option":
		return p.parseOption(false)
	default:
		return p.parseOption(true)
	}
}

// keyword resolves a command word; libuci also accepts the first letter alone.
func keyword(w string) string {
	for _, k := range []string{"package", "config", "option", "list"} {
		if w == k || w == k[:1] {
			return k
		}
	}
	return ""
}

// nextArg reads the next argument; "" when the command has no more.
func (p *parser) nextArg() (string, error) {
	p.skipSpace()
	if p.cur() == ';' {
		return "", nil
	}
	return p.parseStr()
}

// assertEOL rejects a non-empty extra argument, as libuci's strict mode does.
func (p *parser) assertEOL() error {
	extra, err := p.nextArg()
	if err != nil {
		return err
	}
	if extra != "" {
		return p.errAt(p.stmt, "too many arguments (unexpected "+strconv.Quote(extra)+")")
	}
	return nil
}
