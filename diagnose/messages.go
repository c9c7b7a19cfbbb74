package diagnose

import (
	"fmt"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"
)

// describe renders message and advice of a code from the catalog and its
// params. who is "Your device 192.168.1.10" or "This router (…)"; every
// value used here is also in params so LuCI renders the same templates
// (translated) from code and params.
func describe(code Code, p map[string]any, who string) (string, string) {
	for _, e := range Catalog {
		if e.Code == code {
			v := vars{p, who}
			return e.Message.render(v), e.Advice.render(v)
		}
	}
	return string(code), ""
}

// vars resolves placeholders: the names the LuCI page's findingVars adds
// besides the params, else a param. (Looked up when a text uses one,
// rather than all rendered into a map first.)
type vars struct {
	p   map[string]any
	who string
}

func (v vars) get(name string) string {
	p := v.p
	switch name {
	case "who":
		return v.who
	case "who_lc":
		return lowerFirst(v.who)
	case "proto":
		return vpn.Protocol(sprint(p["protocol"])).Name()
	case "others":
		return joinAny(p["others"])
	case "what":
		if ms, ok := p["matches"].([]string); ok && len(ms) > 0 {
			return describeMatches(ms)
		}
	case "port":
		if p["port"] != nil {
			tr, ok := p["transport"]
			if !ok {
				tr = "udp"
			}
			return strings.ToUpper(sprint(tr)) + " " + sprint(p["port"])
		}
	}
	if x := p[name]; x != nil {
		return sprint(x)
	}
	return ""
}

// render picks the first variant that applies and fills its placeholders;
// an unknown or empty one stays as it is, as on the page.
func (t Text) render(vs vars) string {
	for _, v := range t {
		if v.applies(vs.p) {
			return fill(v.Text, vs)
		}
	}
	return ""
}

func (v Variant) applies(p map[string]any) bool {
	if v.If == "" {
		return true
	}
	x, ok := p[v.If]
	if v.Is != "" {
		return ok && sprint(x) == v.Is
	}
	return ok && x != nil && x != false && sprint(x) != ""
}

func fill(s string, vs vars) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s[i+1:], '}') + i + 1
		if i < 0 || j <= i {
			return b.String() + s
		}
		name := s[i+1 : j]
		if v := vs.get(name); v != "" && isName(name) {
			b.WriteString(s[:i] + v)
		} else {
			b.WriteString(s[:j+1])
		}
		s = s[j+1:]
	}
}

func isName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func describeMatches(ms []string) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m
		for _, t := range MatchText {
			if t.Match == m {
				parts[i] = t.Text
			}
		}
	}
	return strings.Join(parts, " and ")
}

func lowerFirst(s string) string {
	if strings.HasPrefix(s, "Your ") || strings.HasPrefix(s, "This ") {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

func joinAny(v any) string {
	if ss, ok := v.([]string); ok {
		return strings.Join(ss, ", ")
	}
	return sprint(v)
}

// sprint is fmt.Sprint of one value: one call site boxes the argument
// instead of one per use.
func sprint(v any) string { return fmt.Sprint(v) }

// newParams builds a finding's params from name, value pairs: one loop
// instead of a map literal's assignment per entry (~150 bytes of code each
// on mips).
func newParams(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	setParams(m, kv...)
	return m
}

// setParams sets name, value pairs in m.
func setParams(m map[string]any, kv ...any) {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
}

// addOnce appends s to list unless it is there (lists of a few match strings).
func addOnce(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
