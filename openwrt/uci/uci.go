// Package uci reads and writes OpenWrt UCI configuration files the way libuci
// does: `package`, `config <type> ['name']`, `option <name> <value>`,
// `list <name> <value>`, comments, unquoted, single- and double-quoted values,
// adjacent quoted parts (the quote join written by uci export), backslash
// escapes and line continuations.
//
// Parse applies libuci's semantics (strict mode, the default of the uci
// command): a named section that appears twice is one section, a repeated
// option replaces its value in place, a `list` after an `option` of the same
// name turns it into a list, and an option set to an empty value is removed. Render writes
// a File back as `uci export` does, so Parse(Render(f)) gives f again.
package uci

import (
	"strconv"
	"strings"
)

// File is one parsed UCI package.
type File struct {
	// Package is the name of a `package` statement, "" when the file has none
	// (as files under /etc/config normally do).
	Package  string     `json:"package,omitempty"`
	Sections []*Section `json:"sections"`
}

// Section is one `config` block. Name is "" for an anonymous section.
type Section struct {
	Type    string    `json:"type"`
	Name    string    `json:"name,omitempty"`
	Line    int       `json:"line"`
	Options []*Option `json:"options"`
}

// Option is an `option` (one value) or a `list` (any number of values, in
// order). Lines[i] is the line of the statement that set Values[i].
type Option struct {
	Name   string   `json:"name"`
	List   bool     `json:"list,omitempty"`
	Values []string `json:"values"`
	Lines  []int    `json:"lines"`
}

// Error is a syntax or semantic error at a line of the input.
type Error struct {
	_    [0]func() // not comparable: no equality function in the binary
	File string    // set by ParseFile and by callers that know the path
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File != "" {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Value returns the value of a plain option, or the last item of a list.
func (o *Option) Value() string {
	if len(o.Values) == 0 {
		return ""
	}
	return o.Values[len(o.Values)-1]
}

// Line returns the line that last set the option.
func (o *Option) Line() int {
	if len(o.Lines) == 0 {
		return 0
	}
	return o.Lines[len(o.Lines)-1]
}

// Section returns the section with the given name, or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name != "" && s.Name == name {
			return s
		}
	}
	return nil
}

// SectionsOfType returns the sections of type typ in file order.
func (f *File) SectionsOfType(typ string) []*Section {
	var out []*Section
	for _, s := range f.Sections {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

// AddSection appends a section. It does not check for a duplicate name: use
// Section first when the name may exist.
func (f *File) AddSection(typ, name string) *Section {
	s := &Section{Type: typ, Name: name, Options: []*Option{}}
	f.Sections = append(f.Sections, s)
	return s
}

// Option returns the option with the given name, or nil.
func (s *Section) Option(name string) *Option {
	for _, o := range s.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Get returns the value of a plain option (or the last item of a list).
func (s *Section) Get(name string) (string, bool) {
	o := s.Option(name)
	if o == nil {
		return "", false
	}
	return o.Value(), true
}

// Set sets a plain option as `uci set` does: in place when the option exists
// (a list becomes a plain option), appended otherwise; an empty value deletes
// the option.
func (s *Section) Set(name, value string) {
	if value == "" {
		s.Delete(name)
		return
	}
	if o := s.Option(name); o != nil {
		o.List, o.Values, o.Lines = false, []string{value}, []int{0}
		return
	}
	s.Options = append(s.Options, &Option{Name: name, Values: []string{value}, Lines: []int{0}})
}

// AddList appends an item to a list as `uci add_list` does; a plain option of
// that name becomes the list's first item.
func (s *Section) AddList(name, value string) {
	o := s.Option(name)
	if o == nil {
		o = &Option{Name: name}
		s.Options = append(s.Options, o)
	}
	o.List = true
	o.Values = append(o.Values, value)
	o.Lines = append(o.Lines, 0)
}

// Delete removes an option; it reports whether it existed.
func (s *Section) Delete(name string) bool {
	for i, o := range s.Options {
		if o.Name == name {
			s.Options = append(s.Options[:i], s.Options[i+1:]...)
			return true
		}
	}
	return false
}

// ValidName reports whether s is a valid section or option name: letters,
// digits and '_' (libuci's uci_validate_name).
func ValidName(s string) bool { return validStr(s, true, false) }

// ValidPackage reports whether s is a valid package name: letters, digits, '_'
// and '-'.
func ValidPackage(s string) bool { return validStr(s, true, true) }

// ValidType reports whether s is a valid section type: printable ASCII
// without spaces (libuci's uci_validate_type).
func ValidType(s string) bool { return validStr(s, false, false) }

func validStr(s string, name, pkg bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || c == '_':
		case c == '-' && pkg:
		case name || c < 33 || c > 126:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isSpace is C's isspace in the C locale, which libuci uses.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Quote renders s as one single-quoted UCI word; a quote inside becomes
// quote, backslash, quote, quote (the join uci export writes).
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
