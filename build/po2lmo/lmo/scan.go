package lmo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A source string to translate and where it was found.
type Source struct {
	MsgID string
	Refs  []string
}

// jsCall finds the first string argument of _() and N_() calls (N_'s
// singular and plural both), as LuCI's i18n-scan does for views.
var jsCall = regexp.MustCompile(`(?:^|[^\w.$])(_|N_)\(\s*(?:[^,()'"]*,\s*)?('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?:\s*,\s*('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))?`)

// Scan collects the translatable strings of JS views (_() and N_()) and of
// LuCI menu.d JSON files ("title"), in the order LuCI's template lists
// them: sorted by msgid.
func Scan(paths []string) ([]Source, error) {
	found := map[string]*Source{}
	var bad []string
	add := func(msgid, ref string) {
		if msgid == "" {
			return
		}
		if msgid != trimws(msgid) {
			// LuCI trims and collapses blanks before it hashes a lookup,
			// po2lmo hashes the msgid as written: such a string would
			// never be found in the catalog.
			bad = append(bad, fmt.Sprintf("%s: %q has leading, trailing or repeated blanks", ref, msgid))
		}
		s := found[msgid]
		if s == nil {
			s = &Source{MsgID: msgid}
			found[msgid] = s
		}
		s.Refs = append(s.Refs, ref)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if filepath.Ext(p) == ".json" {
			if err := scanMenu(b, p, add); err != nil {
				return nil, err
			}
			continue
		}
		if err := scanJS(string(b), p, add); err != nil {
			return nil, err
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("untranslatable strings:\n%s", strings.Join(bad, "\n"))
	}
	out := make([]Source, 0, len(found))
	for _, s := range found {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MsgID < out[j].MsgID })
	return out, nil
}

func scanJS(text, path string, add func(string, string)) error {
	for i, line := range strings.Split(text, "\n") {
		for _, m := range jsCall.FindAllStringSubmatch(line, -1) {
			for _, lit := range m[2:] {
				if lit == "" || (m[1] == "_" && lit == m[3] && m[3] != "") {
					continue
				}
				s, err := jsString(lit)
				if err != nil {
					return fmt.Errorf("%s:%d: %w", path, i+1, err)
				}
				add(s, fmt.Sprintf("%s:%d", path, i+1))
			}
		}
	}
	return nil
}

// scanMenu reads the titles of a menu.d file: LuCI translates them with the
// app's catalog.
func scanMenu(b []byte, path string, add func(string, string)) error {
	var menu map[string]struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(b, &menu); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, node := range menu {
		add(node.Title, path)
	}
	return nil
}

// jsString decodes a single- or double-quoted JS string literal.
func jsString(lit string) (string, error) {
	q := lit[0]
	body := lit[1 : len(lit)-1]
	if q == '\'' {
		// strconv understands double-quoted Go strings: swap the quoting.
		body = strings.ReplaceAll(body, `\'`, `'`)
		body = strings.ReplaceAll(body, `"`, `\"`)
	}
	return strconv.Unquote(`"` + body + `"`)
}

// poQuote writes s as a PO string: only quote and backslash are escaped, so
// po2lmo (and ParsePO) read back exactly s.
func poQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// WritePOT renders the template file for translators.
func WritePOT(srcs []Source) string {
	var b strings.Builder
	b.WriteString("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\"\n")
	for _, s := range srcs {
		b.WriteString("\n")
		for _, r := range s.Refs {
			fmt.Fprintf(&b, "#: %s\n", r)
		}
		fmt.Fprintf(&b, "msgid %s\nmsgstr \"\"\n", poQuote(s.MsgID))
	}
	return b.String()
}
