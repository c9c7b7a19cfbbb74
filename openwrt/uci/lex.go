package uci

// parseStr reads one word, joining adjacent unquoted and quoted parts
// (libuci's parse_str). '#' starts a comment that runs to the end of the
// buffer; ';' ends the word and is left for the command loop.
func (p *parser) parseStr() (string, error) {
	var b []byte
	next := true
loop:
	for {
		switch c := p.cur(); c {
		case '\'':
			if err := p.singleQuote(&b); err != nil {
				return "", err
			}
		case '"':
			if err := p.doubleQuote(&b); err != nil {
				return "", err
			}
		case '#':
			p.pos = p.end
			break loop
		case 0:
			break loop
		case ';':
			next = false
			break loop
		case '\\':
			if p.backslash() {
				p.take(&b)
			}
		default:
			p.take(&b)
		}
		if c := p.cur(); c == 0 || isSpace(c) {
			break
		}
	}
	// Step over the whitespace that ended the word.
	if p.cur() != 0 && next {
		p.pos++
	}
	return string(b), nil
}

// backslash handles '\' at p.pos: it reports true when the next character is
// to be taken literally, false for a line continuation (the backslash, the
// line break and nothing else are dropped and the next line is read).
func (p *parser) backslash() bool {
	p.pos++
	c := p.cur()
	if c == 0 || c == '\n' || (c == '\r' && p.at(p.pos+1) == '\n' && p.at(p.pos+2) == 0) {
		p.pos = p.end
		p.extend()
		return false
	}
	return true
}

// singleQuote reads '...': everything up to the next quote is literal,
// including backslashes and line breaks.
func (p *parser) singleQuote(b *[]byte) error {
	open := p.pos
	p.pos++
	for {
		switch c := p.cur(); c {
		case '\'':
			p.pos++
			return nil
		case 0:
			if !p.extend() {
				return p.errAt(open, "EOF with unterminated '")
			}
		default:
			p.take(b)
		}
	}
}

// doubleQuote reads "...": a backslash takes the next character literally
// (libuci decodes no escape sequences: "\n" is the letter n) and a backslash
// before a line break continues the value on the next line.
func (p *parser) doubleQuote(b *[]byte) error {
	open := p.pos
	p.pos++
	for {
		switch c := p.cur(); c {
		case '"':
			p.pos++
			return nil
		case 0:
			if !p.extend() {
				return p.errAt(open, "EOF with unterminated \"")
			}
		case '\\':
			if p.backslash() {
				p.take(b)
			}
		default:
			p.take(b)
		}
	}
}

// take appends the character at p.pos to b and steps over it: one call at
// each site instead of an inline append (docs/design.md#size).
func (p *parser) take(b *[]byte) {
	*b = append(*b, p.src[p.pos])
	p.pos++
}
