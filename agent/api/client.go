package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/internal/errx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/internal/lines"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// Client calls the API over one connection, reconnecting when the connection
// has been idle long enough for the server to have closed it. It is safe for
// concurrent use; calls are serialized.
type Client struct {
	_ [0]func() // not comparable: no generated equality function (binary size)
	// RedialAfter: a connection idle this long is replaced before the next
	// call (the server closes idle ones after 5 s). 0 means 4 s.
	RedialAfter time.Duration
	// Timeout bounds a call whose context has no deadline. 0 means 60 s.
	Timeout time.Duration
	// Caller goes with every request (the envelope's "caller"): who asks,
	// for the daemon's audit trail. nil sends none (the daemon assumes cli).
	Caller *Caller

	path     string
	mu       sync.Mutex
	conn     *sock.Conn
	r        *lines.Reader
	lastUsed time.Time
	id       int64
}

// Dial connects to the API socket. When nothing listens there (no socket, or
// a stale one) the error wraps ErrNoDaemon; when the caller may not connect
// (not root) it wraps os.ErrPermission.
func Dial(path string) (*Client, error) {
	c := &Client{path: path}
	if err := c.dial(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) dial() error {
	// A unix connect never waits (a full backlog fails at once), so no timeout.
	conn, err := sock.DialUnix(c.path)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (nothing listens on %s)", ErrNoDaemon, c.path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("connect to %s: %w (the API is for root only)", c.path, err)
	default:
		return fmt.Errorf("connect to %s: %w", c.path, err)
	}
	c.conn, c.r, c.lastUsed = conn, lines.NewReader(conn, 4096), time.Now()
	return nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	var err error
	if c.conn != nil {
		err = c.conn.Close()
		c.conn = nil
	}
	c.mu.Unlock()
	return err
}

// Call sends one request and waits for its response. params may be nil. An
// error response is returned as *Error (use errors.As); result, when not nil,
// receives the decoded result.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	c.mu.Lock()
	err := c.call(ctx, method, params, result)
	c.mu.Unlock()
	return err
}

// call is Call under c.mu (a call is smaller than a defer).
func (c *Client) call(ctx context.Context, method string, params, result any) error {
	if c.conn != nil && time.Since(c.lastUsed) > durationOr(c.RedialAfter, 4*time.Second) {
		c.conn.Close()
		c.conn = nil
	}
	reused := c.conn != nil
	resp, err := c.tryCall(ctx, method, params)
	if reused && closedUnanswered(err) {
		// The server closed the kept connection before reading our request
		// (idle, or evicted by a flood): it was not run, so send it again.
		resp, err = c.tryCall(ctx, method, params)
	}
	giveUp := time.Now().Add(durationOr(c.Timeout, 60*time.Second))
	for pause := 5 * time.Millisecond; errors.Is(err, errBusy); pause = min(2*pause, 200*time.Millisecond) {
		// Full of connections that were all just made: a flood, or many
		// callers at once. The request was not run; try again shortly.
		select {
		case <-ctx.Done():
			return resp.Error
		case <-time.After(pause):
		}
		if time.Now().After(giveUp) {
			return resp.Error
		}
		resp, err = c.tryCall(ctx, method, params)
	}
	if de, ok := errx.As[dialError](err); ok {
		return de.err
	}
	if errors.Is(err, errAnsweredAndClosed) {
		return resp.Error
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("%s: %w", method, err)
	}
	c.lastUsed = time.Now()
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fmt.Errorf("%s: decode result: %w", method, err)
		}
	}
	return nil
}

// tryCall is one attempt on a (re)dialled connection; errBusy when the
// server refused the connection for want of a slot.
func (c *Client) tryCall(ctx context.Context, method string, params any) (*Response, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return nil, dialError{err}
		}
	}
	resp, err := c.roundTrip(ctx, method, params)
	if err != nil {
		c.conn.Close() // answered and closed, or the stream may be out of step
		c.conn = nil
	}
	if errors.Is(err, errAnsweredAndClosed) {
		if resp.Error.Code == CodeFailed && resp.Error.Message == BusyMessage {
			return resp, errBusy
		}
	}
	return resp, err
}

var errBusy = errors.New("server busy")

// closedUnanswered: the connection broke before any response came back.
// tryCall has dropped the connection then, so a retry redials.
func closedUnanswered(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// dialError is a failed (re)dial, returned by Call as it is.
type dialError struct{ err error }

func (e dialError) Error() string { return e.err.Error() }

func (c *Client) roundTrip(ctx context.Context, method string, params any) (*Response, error) {
	c.id++
	req := struct {
		_      [0]func() // not comparable: no equality function in the binary
		ID     int64     `json:"id"`
		Method string    `json:"method"`
		Params any       `json:"params,omitempty"`
		Caller *Caller   `json:"caller,omitempty"`
	}{ID: c.id, Method: method, Params: params, Caller: c.Caller}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(durationOr(c.Timeout, 60*time.Second))
	}
	c.conn.SetDeadline(deadline)
	stop := c.conn.CallsEndWith(ctx) // bound to this conn: the caller may drop c.conn meanwhile
	resp, err := c.exchange(line)
	stop() // no defer: nothing here recovers (the CLI's side), a call is smaller
	return resp, err
}

// exchange writes the request line and reads the response to it.
func (c *Client) exchange(line []byte) (*Response, error) {
	_, werr := c.conn.Write(append(line, '\n'))
	raw, err := c.r.ReadBytes('\n')
	if err != nil {
		if werr != nil {
			return nil, werr
		}
		return nil, fmt.Errorf("read response: %w", err)
	}
	var resp Response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("bad response line: %w", err)
	}
	if werr != nil || string(resp.ID) != strconv.FormatInt(c.id, 10) {
		// An error sent before our request was read ("server busy"): the
		// server closes the connection after it.
		if resp.Error != nil && len(resp.ID) == 0 {
			return &resp, errAnsweredAndClosed
		}
		return nil, fmt.Errorf("response id %s does not match request id %d", resp.ID, c.id)
	}
	return &resp, nil
}

var errAnsweredAndClosed = errors.New("server answered and closed the connection")
