package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Client calls the API over one connection, reconnecting when the connection
// has been idle long enough for the server to have closed it. It is safe for
// concurrent use; calls are serialized.
type Client struct {
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
	conn     net.Conn
	r        *bufio.Reader
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
	// A typed address: net.Dial's strings would link Go's DNS resolver. A
	// unix connect never waits (a full backlog fails at once), so no timeout.
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: c.path, Net: "unix"})
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (nothing listens on %s)", ErrNoDaemon, c.path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("connect to %s: %w (the API is for root only)", c.path, err)
	default:
		return fmt.Errorf("connect to %s: %w", c.path, err)
	}
	c.conn, c.r, c.lastUsed = conn, bufio.NewReader(conn), time.Now()
	return nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// Call sends one request and waits for its response. params may be nil. An
// error response is returned as *Error (use errors.As); result, when not nil,
// receives the decoded result.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && time.Since(c.lastUsed) > durationOr(c.RedialAfter, 4*time.Second) {
		c.conn.Close()
		c.conn = nil
	}
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return err
		}
	}
	resp, err := c.roundTrip(ctx, method, params)
	if errors.Is(err, errAnsweredAndClosed) {
		c.conn.Close()
		c.conn = nil
		return resp.Error
	}
	if err != nil {
		c.conn.Close() // the stream may be out of step now
		c.conn = nil
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
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

func (c *Client) roundTrip(ctx context.Context, method string, params any) (*Response, error) {
	c.id++
	req := struct {
		ID     int64   `json:"id"`
		Method string  `json:"method"`
		Params any     `json:"params,omitempty"`
		Caller *Caller `json:"caller,omitempty"`
	}{c.id, method, params, c.Caller}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(durationOr(c.Timeout, 60*time.Second))
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
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
