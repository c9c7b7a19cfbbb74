package jsonx

import (
	"reflect"
	"strings"
	"sync"
)

// field is one JSON member of a struct type.
type field struct {
	name      string
	index     []int // through embedded structs
	omitEmpty bool
	typ       reflect.Type
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists a struct's JSON fields in encoding/json's order: the
// declaration order, embedded structs' fields promoted in place, and of
// several fields with one name the shallowest (a tagged one on a tie) wins.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var all []tagged
	collectInto(t, nil, &all, map[reflect.Type]bool{})
	out := dominant(all)
	fieldCache.Store(t, out)
	return out
}

type tagged struct {
	field
	depth  int
	tagged bool
}

func collectInto(t reflect.Type, index []int, list *[]tagged, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := Tag(sf.Tag)
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		ft := sf.Type
		if sf.Anonymous {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if name == "" && et.Kind() == reflect.Struct {
				if !sf.IsExported() && ft.Kind() == reflect.Pointer {
					continue
				}
				collectInto(et, idx, list, seen)
				continue
			}
			if !sf.IsExported() && et.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		f := tagged{field: field{name: sf.Name, index: idx, typ: ft}, depth: len(idx), tagged: name != ""}
		if name != "" {
			f.name = name
		}
		f.omitEmpty = strings.Contains(","+opts+",", ",omitempty,")
		*list = append(*list, f)
	}
	// No defer: seen is fieldsOf's own, dropped if anything here panics.
	delete(seen, t)
}

// dominant drops the fields another field of the same name hides.
func dominant(list []tagged) []field {
	out := make([]field, 0, len(list))
	for i, f := range list {
		keep := true
		for j, g := range list {
			if i == j || g.name != f.name {
				continue
			}
			if g.depth < f.depth || g.depth == f.depth && g.tagged && !f.tagged {
				keep = false
			} else if g.depth == f.depth && g.tagged == f.tagged {
				keep = false // ambiguous: encoding/json drops both
			}
		}
		if keep {
			out = append(out, f.field)
		}
	}
	return out
}

// Tag is sf.Tag.Get("json") for the tags Go code writes. StructTag.Get
// unquotes the value with strconv.Unquote (~7 KB of mips code with
// reflect's Lookup); here only \\ and \" are escapes: a json value with
// another escape (which no tag of ours has) reads as absent, where Get
// would unescape it; one with a raw newline is absent for both.
func Tag(tag reflect.StructTag) string {
	for tag != "" {
		i := 0
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		tag = tag[i:]
		i = 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			return ""
		}
		name := tag[:i]
		tag = tag[i+1:]
		for i = 1; i < len(tag) && tag[i] != '"'; i++ {
			if tag[i] == '\\' {
				i++
			}
		}
		if i >= len(tag) {
			return ""
		}
		raw := string(tag[1:i])
		tag = tag[i+1:]
		if name == "json" {
			return unescapeTag(raw)
		}
	}
	return ""
}

func unescapeTag(raw string) string {
	var val []byte
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\n' {
			return ""
		}
		if c == '\\' {
			if i++; raw[i] != '\\' && raw[i] != '"' {
				return ""
			}
			c = raw[i]
		}
		val = append(val, c)
	}
	return string(val)
}
