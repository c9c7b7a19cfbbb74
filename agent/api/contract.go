package api

import (
	"context"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"reflect"
	"strings"

	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Access is the rpcd ACL half a method belongs to: read methods only look,
// write methods change the router (openwrt/.../acl.d/*.json grant them so).
type Access string

// Accesses.
const (
	Read  Access = "read"
	Write Access = "write"
)

// Method is one API method of the contract: its name and access, and as
// type parameters its params P and result R, both pointers to structs. The
// daemon serves it with Handle, the CLI calls it with Call: both sides are
// checked by the compiler against the same types. (Pointers: Go compiles a
// generic function once per shape of its type arguments, and all pointers
// have one shape, so every method shares one copy of this code; struct type
// arguments cost a copy each, ~20 KB of flash in all.)
type Method[P, R any] struct {
	Name   string
	Access Access
	_      [0]func() // not comparable: no equality function per method
}

// NoParams are the params of a method that takes none. Such a method
// ignores what it is given (as it always has): there is nothing to check.
type NoParams struct{}

// The methods, in docs/interface.md's order. Adding one means a line here, its
// entry in Methods, its params and result types, and its handler; the rpcd
// signatures and the ACL test follow from Methods.
var (
	MethodStatus  = Method[*NoParams, *Status]{Name: "status", Access: Read}
	MethodSet     = Method[*SetParams, *SetResult]{Name: "set", Access: Write}
	MethodExplain = Method[*ExplainParams, *netfilter.Explanation]{Name: "explain", Access: Read}
	MethodDoctor  = Method[*DoctorParams, *DoctorResult]{Name: "doctor", Access: Read}
	MethodProbe   = Method[*ProbeParams, *ProbeResult]{Name: "probe", Access: Write}
	MethodNat     = Method[*NatParams, *wan.Nat]{Name: "nat", Access: Read}
	MethodHistory = Method[*HistoryParams, *HistoryResult]{Name: "history", Access: Read}
	MethodReload  = Method[*NoParams, *ReloadResult]{Name: "reload", Access: Write}
	MethodMetrics = Method[*NoParams, *MetricsResult]{Name: "metrics", Access: Read}
)

// Spec is a method as the contract table lists it, without its types.
type Spec struct {
	Name   string
	Access Access
	params reflect.Type // the struct P points to
}

// Methods is the contract: every method the daemon serves, in docs/interface.md's
// order.
var Methods = []Spec{
	MethodStatus.spec(), MethodSet.spec(), MethodExplain.spec(), MethodDoctor.spec(),
	MethodProbe.spec(), MethodNat.spec(), MethodHistory.spec(), MethodReload.spec(),
	MethodMetrics.spec(),
}

// spec is the method's entry in the contract table.
func (m Method[P, R]) spec() Spec {
	return Spec{Name: m.Name, Access: m.Access, params: reflect.TypeFor[P]().Elem()}
}

// Lookup finds a method of the contract by name.
func Lookup(name string) (Spec, bool) {
	for _, s := range Methods {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Call calls the method through c: params encoded from p, the result
// decoded into r.
func (m Method[P, R]) Call(ctx context.Context, c *Client, p P, r R) error {
	return c.Call(ctx, m.Name, p, r)
}

// Handle serves the method on s with h, which gets the decoded params
// (never nil) and returns the result.
func (m Method[P, R]) Handle(s *Server, h func(context.Context, P) (R, error)) {
	m.HandleEncoded(s, func(ctx context.Context, p P) (any, error) { return h(ctx, p) })
}

// HandleEncoded is Handle for a handler that returns its result already in
// R's JSON shape (e.g. stored events as raw JSON): nothing is re-encoded.
// A test of that handler must show the shape is R's.
func (m Method[P, R]) HandleEncoded(s *Server, h func(context.Context, P) (any, error)) {
	params := reflect.TypeFor[P]().Elem()
	s.Handle(m.Name, func(ctx context.Context, raw json.RawMessage) (any, error) {
		p := reflect.New(params).Interface()
		if err := decodeFor(raw, p); err != nil {
			return nil, err
		}
		return h(ctx, p.(P))
	})
}

// decodeFor decodes a handler's params into p; a method without params
// ignores what it is given.
func decodeFor(raw json.RawMessage, p any) error {
	if _, none := p.(*NoParams); none {
		return nil
	}
	return DecodeParams(raw, p)
}

// RPCDSignatures is what the rpcd exec plugin's `list` prints: every method
// with its params as examples of their types ("str", 32, true), in the
// order of Methods and of the params' fields (docs/interface.md#rpcd-plugin-and-ubus).
func RPCDSignatures() string {
	b := &strings.Builder{}
	b.WriteByte('{')
	for i, s := range Methods {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + s.Name + `":{`)
		for j := 0; j < s.params.NumField(); j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			f := s.params.Field(j)
			name, _, _ := strings.Cut(json.Tag(f.Tag), ",") // not Tag.Get: see jsonx.Tag
			b.WriteString(`"` + name + `":` + rpcdExample(f.Type))
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}

// rpcdExample is rpcd's way of typing a parameter: an example value. Params
// types hold strings, booleans and integers only (TestRPCDSignatures).
func rpcdExample(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return `"str"`
	case reflect.Bool:
		return "true"
	}
	return "32"
}
