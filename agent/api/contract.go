package api

import (
	"context"
	"reflect"
	"strings"

	json "github.com/vpnpass/vpnpass/internal/jsonx"

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

// Method is one API method of the contract: its entry in Methods (name,
// access), and as type parameters its params P and result R, both pointers
// to structs. The daemon serves it with Serve, the CLI calls it with Call:
// both sides are checked by the compiler against the same types.
// (Pointers: Go compiles a generic function once per shape of its type
// arguments, and all pointers have one shape, so every method shares one
// copy of this code; struct type arguments cost a copy each, ~20 KB of
// flash in all.)
type Method[P, R any] struct {
	*Spec
	_ [0]func() // not comparable: no equality function per method
}

// NoParams are the params of a method that takes none. Such a method
// ignores what it is given (as it always has): there is nothing to check.
type NoParams struct{}

// The methods, in docs/interface.md's order. Adding one means its entry in
// Methods, a line here, its params and result types, and its handler; the
// rpcd signatures and the ACL test follow from Methods, and
// TestMethodsMatchTable checks that each line's P is its entry's params.
var (
	MethodStatus  = Method[*NoParams, *Status]{Spec: &Methods[0]}
	MethodSet     = Method[*SetParams, *SetResult]{Spec: &Methods[1]}
	MethodExplain = Method[*ExplainParams, *netfilter.Explanation]{Spec: &Methods[2]}
	MethodDoctor  = Method[*DoctorParams, *DoctorResult]{Spec: &Methods[3]}
	MethodProbe   = Method[*ProbeParams, *ProbeResult]{Spec: &Methods[4]}
	MethodNat     = Method[*NatParams, *wan.Nat]{Spec: &Methods[5]}
	MethodHistory = Method[*HistoryParams, *HistoryResult]{Spec: &Methods[6]}
	MethodReload  = Method[*NoParams, *ReloadResult]{Spec: &Methods[7]}
	MethodMetrics = Method[*NoParams, *MetricsResult]{Spec: &Methods[8]}
)

// Spec is a method as the contract table lists it, without its types.
type Spec struct {
	_      [0]func() // not comparable: no equality function in the binary
	Name   string
	Access Access
	params any // a nil pointer to the params struct
}

// Methods is the contract: every method the daemon serves, in
// docs/interface.md's order. Constants only: no code runs at start.
var Methods = [...]Spec{
	{Name: "status", Access: Read, params: (*NoParams)(nil)},
	{Name: "set", Access: Write, params: (*SetParams)(nil)},
	{Name: "explain", Access: Read, params: (*ExplainParams)(nil)},
	{Name: "doctor", Access: Read, params: (*DoctorParams)(nil)},
	{Name: "probe", Access: Write, params: (*ProbeParams)(nil)},
	{Name: "nat", Access: Read, params: (*NatParams)(nil)},
	{Name: "history", Access: Read, params: (*HistoryParams)(nil)},
	{Name: "reload", Access: Write, params: (*NoParams)(nil)},
	{Name: "metrics", Access: Read, params: (*NoParams)(nil)},
}

// paramsType is the struct the method's params point to.
func (s *Spec) paramsType() reflect.Type { return reflect.TypeOf(s.params).Elem() }

// Lookup finds a method of the contract by name.
func Lookup(name string) (*Spec, bool) {
	for i := range Methods {
		if Methods[i].Name == name {
			return &Methods[i], true
		}
	}
	return nil, false
}

// Call calls the method through c: params encoded from p, the result
// decoded into r.
func (m Method[P, R]) Call(ctx context.Context, c *Client, p P, r R) error {
	return c.Call(ctx, m.Name, p, r)
}

// Args is a call of a method with its arguments, checked by the compiler
// (Method.Args) and made later (Args.Call): code that decides how to call
// (or not) takes one value instead of a closure per call site.
type Args struct {
	_              [0]func() // not comparable: no equality function in the binary
	Name           string
	Params, Result any
}

// Args binds the method to its params p and result r.
func (m Method[P, R]) Args(p P, r R) Args { return Args{Name: m.Name, Params: p, Result: r} }

// Call makes the call through c: params encoded, the result decoded.
func (a *Args) Call(ctx context.Context, c *Client) error {
	return c.Call(ctx, a.Name, a.Params, a.Result)
}

// Serve serves the method m on s with h, a method expression of d's type
// (`api.Serve(s, api.MethodStatus, d, (*Daemon).handleStatus)`), which gets
// d and the decoded params (never nil) and returns the result. A method
// expression is the method itself; a method value (d.handleStatus) would
// link a wrapper function per handler (docs/design.md#size).
func Serve[D, P, R any](s *Server, m Method[P, R], d D, h func(D, context.Context, P) (R, error)) {
	ServeEncoded(s, m, d, func(d D, ctx context.Context, p P) (any, error) { return h(d, ctx, p) })
}

// ServeEncoded is Serve for a handler that returns its result already in
// R's JSON shape (e.g. stored events as raw JSON): nothing is re-encoded.
// A test of that handler must show the shape is R's.
func ServeEncoded[D, P, R any](s *Server, m Method[P, R], d D, h func(D, context.Context, P) (any, error)) {
	params := m.paramsType()
	s.Handle(m.Name, func(ctx context.Context, raw json.RawMessage) (any, error) {
		p := reflect.New(params).Interface()
		if err := decodeFor(raw, p); err != nil {
			return nil, err
		}
		return h(d, ctx, p.(P))
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
	for i := range Methods {
		s := &Methods[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + s.Name + `":{`)
		sep := false
		params := s.paramsType()
		for j := 0; j < params.NumField(); j++ {
			f := params.Field(j)
			if !f.IsExported() { // the blank field that keeps params not comparable
				continue
			}
			if sep {
				b.WriteByte(',')
			}
			sep = true
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
