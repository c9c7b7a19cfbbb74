package lmo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// message is one PO entry as po2lmo reads it.
type message struct {
	ctxt, id, idPlural string
	str                []string // msgstr, or msgstr[0..n]
	plural             bool
	line               int
}

// ParsePO reads a PO file the way LuCI's po2lmo does: msgctxt, msgid,
// msgid_plural, msgstr and msgstr[N] keywords with continuation strings;
// `\"` and `\\` unescaped, every other escape kept as written (po2lmo keeps
// `\n` as two characters, so LuCI looks strings up that way). It returns the
// translated entries keyed as LuCI hashes them and the Plural-Forms
// expression of the header.
func ParsePO(r io.Reader) ([]Entry, string, error) {
	msgs, err := parseMessages(r)
	if err != nil {
		return nil, "", err
	}
	var out []Entry
	plural := ""
	for _, m := range msgs {
		if m.id == "" {
			plural = headerPlural(firstOf(m.str))
			continue
		}
		out = append(out, m.entries()...)
	}
	return out, plural, nil
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// entries turns one message into its catalog keys: "ctx\x01id", plural
// forms "id\x02N".
func (m message) entries() []Entry {
	var out []Entry
	for i, v := range m.str {
		if v == "" {
			continue
		}
		key := m.id
		if m.ctxt != "" {
			key = m.ctxt + "\x01" + key
		}
		forms := uint32(1)
		if m.plural {
			key += "\x02" + strconv.Itoa(i)
			forms = uint32(len(m.str))
		}
		out = append(out, Entry{Key: key, Value: v, Forms: forms})
	}
	return out
}

// headerPlural finds "Plural-Forms: ..." in the header (fields are split on
// the escaped \n, as po2lmo does).
func headerPlural(h string) string {
	for _, f := range strings.Split(h, `\n`) {
		if len(f) >= 14 && strings.EqualFold(f[:14], "Plural-Forms: ") {
			return f[14:]
		}
	}
	return ""
}

func parseMessages(r io.Reader) ([]message, error) {
	var msgs []message
	var cur *message
	var field *string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	flush := func() {
		if cur != nil && (cur.id != "" || len(cur.str) > 0) {
			msgs = append(msgs, *cur)
		}
		cur, field = nil, nil
	}
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		kw, rest, _ := strings.Cut(line, " ")
		if strings.HasPrefix(line, `"`) {
			kw, rest = "", line
		}
		s, err := poString(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case kw == "msgctxt":
			flush()
			cur = &message{ctxt: s, line: n}
			field = &cur.ctxt
		case kw == "msgid":
			if cur == nil || cur.id != "" || len(cur.str) > 0 {
				flush()
				cur = &message{line: n}
			}
			cur.id = s
			field = &cur.id
		case kw == "msgid_plural" && cur != nil:
			cur.idPlural, cur.plural = s, true
			field = &cur.idPlural
		case kw == "msgstr" && cur != nil:
			cur.str = append(cur.str, s)
			field = &cur.str[len(cur.str)-1]
		case strings.HasPrefix(kw, "msgstr[") && cur != nil:
			i, err := strconv.Atoi(strings.TrimSuffix(kw[len("msgstr["):], "]"))
			if err != nil || i != len(cur.str) || i >= 10 {
				return nil, fmt.Errorf("line %d: bad %s", n, kw)
			}
			cur.str = append(cur.str, s)
			field = &cur.str[i]
		case kw == "" && field != nil:
			*field += s
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", n, line)
		}
	}
	flush()
	return msgs, sc.Err()
}

// poString unquotes one "..." token with po2lmo's escape rules.
func poString(tok string) (string, error) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", fmt.Errorf("want a quoted string, got %q", tok)
	}
	var b strings.Builder
	in := tok[1 : len(tok)-1]
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '\\' && i+1 < len(in) {
			if in[i+1] == '"' || in[i+1] == '\\' {
				b.WriteByte(in[i+1])
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(in[i+1])
			i++
			continue
		}
		if c == '"' {
			return "", fmt.Errorf("unescaped quote in %q", tok)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}
