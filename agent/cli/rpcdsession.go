package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"

	json "github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/agent/api"
)

// sessionKey is what uhttpd's /ubus (and LuCI's fallback endpoint) add to
// every call's arguments: the caller's rpcd session id. `ubus call` from a
// shell sends none. uhttpd refuses calls that carry it themselves, so a
// remote caller cannot choose it.
const sessionKey = "ubus_rpc_session"

// rpcdInput is what rpcd wrote on stdin: the method's params without the
// session key, and whether the key was there.
type rpcdInput struct {
	params  json.RawMessage
	session bool
	sid     string // never stored: only used to look up the login
}

// readParams reads the params object rpcd writes on stdin (empty means {})
// and takes the session key out: the one place it is removed, so every
// other unknown key still reaches the daemon's strict decoder (bad_params).
// rpcd writes stdin once and closes it; ctx bounds a writer that does not.
func readParams(ctx context.Context, r io.Reader) (none rpcdInput, err error) {
	if r == nil {
		return rpcdInput{params: json.RawMessage("{}")}, nil
	}
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, rpcdMaxInput+1))
		done <- read{b, err}
	}()
	var got read
	select {
	case got = <-done:
	case <-ctx.Done():
		return none, errors.New("the params on stdin did not end (rpcd closes stdin after writing them)")
	}
	if got.err != nil {
		return none, fmt.Errorf("read params: %w", got.err)
	}
	return splitSession(got.b)
}

// splitSession parses the params object and removes the session key.
func splitSession(b []byte) (none rpcdInput, err error) {
	if len(b) > rpcdMaxInput {
		return none, errors.New("params over 64 KiB")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return rpcdInput{params: json.RawMessage("{}")}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return none, fmt.Errorf("params must be one JSON object: %v", err) // err may be nil (null)
	}
	raw, ok := m[sessionKey]
	if !ok {
		return rpcdInput{params: json.RawMessage(b)}, nil
	}
	in := rpcdInput{session: true}
	_ = json.Unmarshal(raw, &in.sid) // not a string: a session without a known id
	delete(m, sessionKey)
	in.params, _ = json.Marshal(m) // re-encodes what was just decoded: cannot fail
	return in, nil
}

// sessionLookupTimeout bounds the lookup of the login behind a session:
// the call itself must still fit in rpcdBudget.
const sessionLookupTimeout = 2 * time.Second

// ubusCommand is the ubus CLI (on OpenWrt /bin/ubus, found through PATH);
// a variable so tests can put a stand-in there.
var ubusCommand = "ubus"

// sessionUser asks rpcd's session object for the login name behind sid:
// rpcd stores it under "username" at session.login (rpcd session.c,
// rpc_handle_login; session.get takes "ubus_rpc_session" and "keys" and
// answers {"values": {...}}). The plugin is rpcd's child and runs as root,
// so the anonymous ubus connection may ask. Any failure (no ubus, an
// expired session, a session made without login, a timeout) gives "": the
// call goes on as origin rpcd without a user.
func sessionUser(ctx context.Context, sid string) string {
	if !validSID(sid) {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, sessionLookupTimeout)
	defer cancel()
	// sid is 32 hex digits (validSID): nothing to escape; keys in JSON's sorted order.
	arg := `{"keys":["username"],"` + sessionKey + `":"` + sid + `"}`
	secs := strconv.Itoa(int(sessionLookupTimeout / time.Second))
	cmd := exec.CommandContext(ctx, ubusCommand, "-t", secs, "call", "session", "get", arg)
	cmd.WaitDelay = 100 * time.Millisecond // a stuck grandchild holding stdout must not hold us
	var out bytes.Buffer                   // not Output(): its stderr capture costs flash
	cmd.Stdout = &out
	if cmd.Run() != nil {
		return ""
	}
	var reply struct {
		Values struct {
			Username string `json:"username"`
		} `json:"values"`
	}
	if json.Unmarshal(out.Bytes(), &reply) != nil || api.CheckUser(reply.Values.Username) != nil {
		return ""
	}
	return reply.Values.Username
}

// validSID: rpcd session ids are 32 lowercase hex digits.
func validSID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
