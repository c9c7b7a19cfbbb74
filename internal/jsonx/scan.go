package jsonx

import (
	"errors"
	"strconv"
)

// SyntaxError is invalid JSON, with encoding/json's message texts.
type SyntaxError struct {
	_      [0]func() // not comparable: no generated equality function (issue 16)
	msg    string
	Offset int64 // bytes read before the error
	eof    bool  // the input ended inside a value
}

func (e *SyntaxError) Error() string { return e.msg }

func errorf(msg string) error { return errors.New(msg) }

// quoteChar formats c as encoding/json's scanner does in its messages.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// scanner walks one JSON text; skip* methods validate without building.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) fail(context string) error {
	if s.pos >= len(s.data) {
		return &SyntaxError{msg: "unexpected end of JSON input", Offset: int64(s.pos), eof: true}
	}
	return &SyntaxError{msg: "invalid character " + quoteChar(s.data[s.pos]) + " " + context, Offset: int64(s.pos + 1)}
}

// failIn is fail inside a token, where encoding/json's scanner meets the end
// of input as a space and names that character.
func (s *scanner) failIn(context string) error {
	if s.pos >= len(s.data) {
		return &SyntaxError{msg: "invalid character ' ' " + context, Offset: int64(s.pos + 1), eof: true}
	}
	return s.fail(context)
}

// skipValue moves past one value (after leading space), checking its syntax.
func (s *scanner) skipValue() error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.fail("")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.skipObject()
	case c == '[':
		return s.skipArray()
	case c == '"':
		_, err := s.skipString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.skipNumber()
	case c == 't':
		return s.skipLiteral("true")
	case c == 'f':
		return s.skipLiteral("false")
	case c == 'n':
		return s.skipLiteral("null")
	}
	return s.fail("looking for beginning of value")
}

func (s *scanner) skipLiteral(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.data) || s.data[s.pos] != lit[i] {
			return s.failIn("in literal " + lit + " (expecting " + quoteChar(lit[i]) + ")")
		}
		s.pos++
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func (s *scanner) skipNumber() error {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if s.digits() == 0 {
		return s.failIn("in numeric literal")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.failIn("after decimal point in numeric literal")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.failIn("in exponent of numeric literal")
		}
	}
	return nil
}

// skipString moves past a string; escaped says whether it holds a backslash.
func (s *scanner) skipString() (escaped bool, err error) {
	s.pos++ // the quote
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			s.pos++
			if s.pos >= len(s.data) {
				return escaped, s.failIn("in string escape code")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for i := 0; i < 4; i++ {
					if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
						return escaped, s.failIn("in \\u hexadecimal character escape")
					}
					s.pos++
				}
			default:
				return escaped, s.fail("in string escape code")
			}
		case c < 0x20:
			return escaped, s.fail("in string literal")
		default:
			s.pos++
		}
	}
	return escaped, s.fail("")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) skipObject() error {
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("looking for beginning of object key string")
		}
		if _, err := s.skipString(); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("after object key")
		}
		s.pos++
		if err := s.skipValue(); err != nil {
			return err
		}
		if done, err := s.next('}', "after object key:value pair"); done || err != nil {
			return err
		}
	}
}

func (s *scanner) skipArray() error {
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.skipValue(); err != nil {
			return err
		}
		if done, err := s.next(']', "after array element"); done || err != nil {
			return err
		}
	}
}

// next reads what follows an element of an object or array: a comma (more
// to come) or the closing byte (done); anything else fails, naming where.
func (s *scanner) next(closing byte, where string) (done bool, err error) {
	s.ws()
	if s.pos >= len(s.data) {
		return false, s.fail("")
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, s.fail(where)
}

// checkValid reports whether data is exactly one JSON value (space around).
func checkValid(data []byte) error {
	s := scanner{data: data}
	if err := s.skipValue(); err != nil {
		return err
	}
	s.ws()
	if s.pos < len(data) {
		return s.fail("after top-level value")
	}
	return nil
}

// compact appends valid JSON src without insignificant space, with <, >, &,
// U+2028 and U+2029 in strings escaped (encoding/json's Marshal does this to
// what a MarshalJSON method returns).
func compact(b, src []byte) []byte { return reformat(b, src, "", "", false) }

// indent appends compact JSON src laid out as encoding/json's Indent does:
// one member per line, empty objects and arrays kept as {} and [].
func indent(b, src []byte, prefix, ind string) []byte { return reformat(b, src, prefix, ind, true) }

// reformat is compact, and indent when pretty: one walk for both (their
// strings need the same care; indent's input has no space and no raw
// characters to escape).
func reformat(b, src []byte, prefix, ind string, pretty bool) []byte {
	depth := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			b, i = copyString(b, src, i)
			continue
		}
		b = append(b, c)
		if !pretty {
			continue
		}
		switch c {
		case '{', '[':
			if c2 := src[i+1]; c2 == '}' || c2 == ']' {
				i++
				b = append(b, c2)
				continue
			}
			depth++
			b = newline(b, prefix, ind, depth)
		case '}', ']': // the line break goes before it
			depth--
			b = append(newline(b[:len(b)-1], prefix, ind, depth), c)
		case ',':
			b = newline(b, prefix, ind, depth)
		case ':':
			b = add(b, " ")
		}
	}
	return b
}

// copyString appends the string starting at src[i] with <, >, &, U+2028
// and U+2029 escaped, and returns the index of its closing quote.
func copyString(b, src []byte, i int) ([]byte, int) {
	b = add(b, `"`)
	for i++; ; i++ {
		c := src[i]
		e := [6]byte{'\\', 'u', '0', '0'}
		switch {
		case c == '"':
			return add(b, `"`), i
		case c == '\\':
			i++
			b = append(b, c, src[i])
			continue
		case c == '<' || c == '>' || c == '&':
			e[4], e[5] = hex[c>>4], hex[c&0xf]
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			e[2], e[3], e[4], e[5] = '2', '0', '2', hex[src[i+2]&0xf]
			i += 2
		default:
			b = append(b, c)
			continue
		}
		b = append(b, e[:]...)
	}
}

func newline(b []byte, prefix, ind string, depth int) []byte {
	b = add(b, "\n")
	b = add(b, prefix)
	for i := 0; i < depth; i++ {
		b = add(b, ind)
	}
	return b
}
