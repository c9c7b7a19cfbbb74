package uci

import (
	"bytes"
	"strings"
)

// Render writes f in libuci's canonical style, the way `uci export` does:
// a `package` line when f.Package is set, then for each section a blank line,
// `config <type> '<name>'` and its options as `\toption <name> '<value>'` /
// `\tlist <name> '<item>'`, then a final blank line. Comments are not kept
// (libuci drops them too). With f.Package "" the output is what `uci commit`
// writes to /etc/config.
//
// Two deliberate differences keep Parse(Render(f)) equal to f: a section type
// holding a quote, backslash, '#' or ';' is quoted (libuci writes it bare and
// cannot read it back), and a plain option with an empty value is left out
// (libuci reads an option with an empty value as "delete it").
func Render(f *File) []byte {
	var b bytes.Buffer
	if f.Package != "" {
		b.WriteString("package " + f.Package + "\n")
	}
	for _, s := range f.Sections {
		b.WriteString("\nconfig " + renderType(s.Type))
		if s.Name != "" {
			b.WriteString(" " + Quote(s.Name))
		}
		b.WriteByte('\n')
		for _, o := range s.Options {
			renderOption(&b, o)
		}
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func renderOption(b *bytes.Buffer, o *Option) {
	if !o.List {
		if v := o.Value(); v != "" {
			b.WriteString("\toption " + o.Name + " " + Quote(v) + "\n")
		}
		return
	}
	for _, v := range o.Values {
		b.WriteString("\tlist " + o.Name + " " + Quote(v) + "\n")
	}
}

func renderType(t string) string {
	if strings.ContainsAny(t, `'"\#;`) {
		return Quote(t)
	}
	return t
}
