package igd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// node is one element of a parsed XML document. Only what UPnP device
// descriptions and SOAP answers use is kept: local names and text. A
// hand-written scanner instead of encoding/xml saves ~190 KiB on mips.
type node struct {
	name string // local name, namespace prefix removed
	text strings.Builder
	kids []*node
}

// Limits on hostile documents.
const (
	maxDepth = 32
	maxNodes = 4096
)

var errXML = errors.New("malformed XML")

// parseXML reads a document into a tree under a synthetic root node.
func parseXML(b string) (*node, error) {
	root := &node{}
	stack := []*node{root}
	count := 0
	for i := 0; i < len(b); {
		if b[i] != '<' {
			j := strings.IndexByte(b[i:], '<')
			if j < 0 {
				j = len(b) - i
			}
			stack[len(stack)-1].text.WriteString(unescape(b[i : i+j]))
			i += j
			continue
		}
		rest := b[i:]
		switch {
		case strings.HasPrefix(rest, "<?"):
			i += skipPast(rest, "?>")
		case strings.HasPrefix(rest, "<!--"):
			i += skipPast(rest, "-->")
		case strings.HasPrefix(rest, "<![CDATA["):
			n := skipPast(rest, "]]>")
			if n > len(rest) {
				return nil, fmt.Errorf("%w: unterminated CDATA", errXML)
			}
			stack[len(stack)-1].text.WriteString(rest[9 : n-3])
			i += n
		case strings.HasPrefix(rest, "<!"):
			i += skipPast(rest, ">")
		case strings.HasPrefix(rest, "</"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated end tag", errXML)
			}
			name := localName(strings.TrimSpace(rest[2:end]))
			if len(stack) == 1 || stack[len(stack)-1].name != name {
				return nil, fmt.Errorf("%w: unexpected </%s>", errXML, name)
			}
			stack = stack[:len(stack)-1]
			i += end + 1
		default:
			name, n, selfClosing, err := startTag(rest)
			if err != nil {
				return nil, err
			}
			if count++; count > maxNodes || len(stack) > maxDepth {
				return nil, fmt.Errorf("%w: document too large or too deep", errXML)
			}
			el := &node{name: name}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, el)
			if !selfClosing {
				stack = append(stack, el)
			}
			i += n
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("%w: <%s> not closed", errXML, stack[len(stack)-1].name)
	}
	return root, nil
}

// skipPast returns the length up to and including end, or past the string.
func skipPast(s, end string) int {
	if j := strings.Index(s, end); j >= 0 {
		return j + len(end)
	}
	return len(s) + 1
}

// startTag reads "<name attr='v' ...>" and returns the local name, the
// tag's length and whether it closes itself. Attributes are skipped, quotes
// respected so a '>' inside a value does not end the tag.
func startTag(s string) (name string, n int, selfClosing bool, err error) {
	i := 1
	for i < len(s) && !strings.ContainsRune(" \t\r\n/>", rune(s[i])) {
		i++
	}
	name = localName(s[1:i])
	if name == "" {
		return "", 0, false, fmt.Errorf("%w: empty tag name", errXML)
	}
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, i + 1, s[i-1] == '/', nil
		}
	}
	return "", 0, false, fmt.Errorf("%w: unterminated <%s", errXML, name)
}

func localName(s string) string {
	if j := strings.LastIndexByte(s, ':'); j >= 0 {
		return s[j+1:]
	}
	return s
}

// unescape decodes the predefined entities and character references; an
// unknown entity is kept as written.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var out strings.Builder
	for {
		amp := strings.IndexByte(s, '&')
		if amp < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:amp])
		s = s[amp:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 || semi > 10 {
			out.WriteByte('&')
			s = s[1:]
			continue
		}
		out.WriteString(entity(s[1:semi], s[:semi+1]))
		s = s[semi+1:]
	}
}

func entity(name, literal string) string {
	switch name {
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "amp":
		return "&"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	var v uint64
	var err error
	switch {
	case strings.HasPrefix(name, "#x"), strings.HasPrefix(name, "#X"):
		v, err = strconv.ParseUint(name[2:], 16, 32)
	case strings.HasPrefix(name, "#"):
		v, err = strconv.ParseUint(name[1:], 10, 32)
	default:
		return literal
	}
	if err != nil || v == 0 || v > 0x10ffff {
		return literal
	}
	return string(rune(v))
}

// child returns the first direct child named name, or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// value is the trimmed text of the first direct child named name.
func (n *node) value(name string) string {
	if c := n.child(name); c != nil {
		return strings.TrimSpace(c.text.String())
	}
	return ""
}

// find returns every element named name at any depth, in document order.
func (n *node) find(name string) []*node {
	var out []*node
	var walk func(*node)
	walk = func(x *node) {
		for _, k := range x.kids {
			if k.name == name {
				out = append(out, k)
			}
			walk(k)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}
