package api

import (
	"bytes"
	"context"
	"fmt"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"strconv"
)

// Origins of a request: who asked the daemon (docs/interface.md#local-api,
// passthrough.changed details). The socket is root-only, so a caller's word
// is trusted; it is an audit trail, not an authorization.
const (
	OriginCLI  = "cli"  // the vpnpass CLI (or any local socket client that does not say)
	OriginUbus = "ubus" // `ubus call vpnpass ...` from a shell: rpcd without a session
	OriginRPCD = "rpcd" // through uhttpd's /ubus or LuCI: rpcd with a login session
)

// maxUserLen bounds the login name a caller may report (rpcd logins are
// short UCI values; the history must not take arbitrary blobs).
const maxUserLen = 64

// Caller is the request envelope's "caller" field: where the request came
// from and, through rpcd, the login behind the session. It is not a method
// parameter: handlers read it with CallerFrom.
type Caller struct {
	_      [0]func() // not comparable: no equality function in the binary
	Origin string    `json:"origin"`
	User   string    `json:"user,omitempty"`
}

// Details are the caller's fields of a history event's details.
func (c *Caller) Details() map[string]any {
	d := map[string]any{"origin": c.Origin}
	if c.User != "" {
		d["user"] = c.User
	}
	return d
}

// String is the caller for people: "rpcd, user isp".
func (c *Caller) String() string {
	if c.User != "" {
		return c.Origin + ", user " + c.User
	}
	return c.Origin
}

// decodeCaller parses and validates the envelope's caller object.
func decodeCaller(raw json.RawMessage) (*Caller, *Error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var c Caller
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, Errorf(CodeBadRequest, "caller must be {\"origin\": \"cli\"|\"ubus\"|\"rpcd\", \"user\": \"name\"}: %v", err)
	}
	switch c.Origin {
	case OriginCLI, OriginUbus, OriginRPCD:
	default:
		return nil, Errorf(CodeBadRequest, "caller origin must be one of cli, ubus, rpcd, not %q", c.Origin)
	}
	if err := CheckUser(c.User); err != nil {
		return nil, Errorf(CodeBadRequest, "caller user: %v", err)
	}
	return &c, nil
}

// CheckUser validates a login name a caller reports: short and printable.
func CheckUser(u string) error {
	if len(u) > maxUserLen {
		return fmt.Errorf("longer than %d bytes", maxUserLen)
	}
	for _, r := range u {
		if !strconv.IsPrint(r) {
			return fmt.Errorf("%q has unprintable characters", u)
		}
	}
	return nil
}

type callerKey struct{}

// withCaller attaches the request's caller to a handler's context.
func withCaller(ctx context.Context, c *Caller) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, *c)
}

// CallerFrom is the caller of the request a handler serves. A request that
// does not say comes from a local socket client: origin cli.
func CallerFrom(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Origin: OriginCLI}
}
