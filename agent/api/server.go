package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/agent/logx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/internal/lines"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// Handler serves one method. params is the request's params object (nil when
// absent); decode it with DecodeParams. The result is encoded as the
// response's result; an error becomes the error object (see Error).
type Handler func(ctx context.Context, params json.RawMessage) (any, error)

// Defaults of Server's limits.
const (
	DefaultIdleTimeout  = 5 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxConns     = 16
)

// Server serves the API. Set the exported fields before Serve.
type Server struct {
	IdleTimeout  time.Duration // connection closed after this long without a request; 0 = 5 s
	WriteTimeout time.Duration // a response must be taken within this; 0 = 10 s
	MaxConns     int           // connections open at once (see track); 0 = 16
	Logger       *logx.Logger  // nil: logx.Default()

	mu        sync.Mutex
	handlers  map[string]Handler
	listeners map[*Listener]struct{}
	conns     map[*sock.Conn]*connState
	live      int // connection goroutines, evicted ones still ending included
	closed    bool
	wg        sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
}

// NewServer returns a server with no methods.
func NewServer() *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		handlers:  map[string]Handler{},
		listeners: map[*Listener]struct{}{},
		conns:     map[*sock.Conn]*connState{},
		ctx:       ctx,
		cancel:    cancel,
	}
}

// Handle registers h for method, replacing any previous handler.
func (s *Server) Handle(method string, h Handler) {
	s.mu.Lock()
	s.handlers[method] = h
	s.mu.Unlock()
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("api: server closed")

// Serve accepts connections on ln until Close (ErrServerClosed) or until ln
// fails. It closes ln when it returns.
func (s *Server) Serve(ln *Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !s.track(c) {
			refuse(c)
			continue
		}
		go s.serveConn(c)
	}
}

// connState is what a tracked connection is doing: busy from a complete
// request line until its response is written; waiting for a request else.
type connState struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	busy  bool
	since time.Time // when it last started waiting
}

// evictAfter: a connection that has waited this long without sending a
// complete request gives its slot to a new one when the server is full.
// A real client sends its request at once; one that connects and stays
// silent or trickles bytes (a flood, a slow client) cannot hold the API.
const evictAfter = 20 * time.Millisecond

// BusyMessage is the error a connection gets when every slot is taken by a
// handler or by a connection that has just arrived (Client retries it).
const BusyMessage = "server busy: too many API connections; try again"

// track registers c, reporting false when the server is closed, or full
// with connections that are all busy or arrived less than evictAfter ago.
// When full, the connection that has waited longest is closed to make room;
// connection goroutines, evicted ones still ending included, stay under
// 2*MaxConns however many connect.
func (s *Server) track(c *sock.Conn) bool {
	s.mu.Lock()
	ok := s.trackLocked(c)
	s.mu.Unlock()
	return ok
}

// trackLocked is track under s.mu (no defer: a call is smaller).
func (s *Server) trackLocked(c *sock.Conn) bool {
	limit := s.MaxConns
	if limit <= 0 {
		limit = DefaultMaxConns
	}
	if s.closed {
		return false
	}
	now := time.Now()
	if s.live >= 2*limit {
		return false // evicted connections have not ended yet: no more goroutines
	}
	if len(s.conns) >= limit {
		victim := s.longestWaiting(now)
		if victim == nil {
			return false
		}
		delete(s.conns, victim) // its goroutine ends on the read error
		victim.Close()
	}
	s.conns[c] = &connState{since: now}
	s.live++
	s.wg.Add(1)
	return true
}

// longestWaiting is the connection idle longest, if over evictAfter.
func (s *Server) longestWaiting(now time.Time) *sock.Conn {
	var victim *sock.Conn
	oldest := now.Add(-evictAfter)
	for c, st := range s.conns {
		if !st.busy && !st.since.After(oldest) {
			victim, oldest = c, st.since
		}
	}
	return victim
}

// setBusy marks c as in a handler (true) or waiting again (false),
// reporting false when c has been evicted.
func (s *Server) setBusy(c *sock.Conn, busy bool) bool {
	s.mu.Lock()
	st := s.conns[c]
	if st != nil {
		st.busy, st.since = busy, time.Now()
	}
	s.mu.Unlock()
	return st != nil
}

func (s *Server) untrack(c *sock.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.live--
	s.mu.Unlock()
	c.Close()
	s.wg.Done()
}

// refuse answers a connection over the limit with one error line, on the
// accept loop: a new socket's buffer takes the line at once, so this
// never waits long and a flood adds no goroutines.
func refuse(c *sock.Conn) {
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	c.Write(encodeResponse(nil, nil, Failed(BusyMessage)))
	c.Close()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	return closed
}

// Close stops all listeners, closes every connection and waits for running
// handlers to return (their context is cancelled).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) logger() *logx.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return logx.Default()
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// serveConn reads requests one line at a time and answers each in order.
func (s *Server) serveConn(c *sock.Conn) {
	defer s.untrack(c)
	r := lines.NewReader(c, 4096)
	idle := durationOr(s.IdleTimeout, DefaultIdleTimeout)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		line, err := readLine(r, MaxLine)
		if errors.Is(err, errLineTooLong) {
			s.write(c, encodeResponse(nil, nil, Errorf(CodeBadRequest, "request line over 64 KiB")))
			return
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return // idle timeout, or closed by Close: a partial line is dropped
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if !s.setBusy(c, true) {
				return // evicted meanwhile: the request is not run
			}
			// Busy until the response is written: a connection closed
			// without a response never had its request run (Client
			// retries those), and WriteTimeout bounds a reader that stalls.
			ok := s.write(c, s.dispatch(line))
			if !ok || !s.setBusy(c, false) {
				return
			}
		}
		if err != nil { // EOF after a last line without newline
			return
		}
	}
}

func (s *Server) write(c *sock.Conn, b []byte) bool {
	c.SetWriteDeadline(time.Now().Add(durationOr(s.WriteTimeout, DefaultWriteTimeout)))
	_, err := c.Write(b)
	return err == nil
}

// dispatch answers one request line.
func (s *Server) dispatch(line []byte) []byte {
	req, perr := DecodeRequest(line)
	if perr != nil {
		return encodeResponse(req.ID, nil, perr)
	}
	s.mu.Lock()
	h, ok := s.handlers[req.Method]
	s.mu.Unlock()
	if !ok {
		return encodeResponse(req.ID, nil, Errorf(CodeUnknownMethod,
			"unknown method %q; methods: %s", req.Method, strings.Join(s.Methods(), ", ")))
	}
	result, err := s.call(h, req)
	if err != nil {
		return encodeResponse(req.ID, nil, asError(err))
	}
	return encodeResponse(req.ID, result, nil)
}

// call runs a handler; a panic becomes a `failed` error and is logged.
func (s *Server) call(h Handler, req Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logger().Error("api handler panicked", "method", req.Method, "panic", p, "stack", string(debug.Stack()))
			result, err = nil, Failed("internal error in %s: %v", req.Method, p)
		}
	}()
	return h(withCaller(s.ctx, req.Caller), req.Params)
}

// Methods are the names of the methods s serves, sorted.
func (s *Server) Methods() []string {
	s.mu.Lock()
	var m []string
	for k := range s.handlers {
		m = append(m, k)
	}
	s.mu.Unlock()
	sort.StringSlice(m).Sort()
	return m
}

var errLineTooLong = errors.New("line too long")

// errTooManyFiles is Accept's error when the process is out of descriptors:
// retried after a pause rather than ending Serve.
var errTooManyFiles = syscall.EMFILE

// readLine returns the next line without its newline. A last line without a
// newline is returned with the read error (io.EOF).
func readLine(r *lines.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > limit+1 || len(line) == limit+1 && line[limit] != '\n' {
			return nil, errLineTooLong
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case err == lines.ErrBufferFull:
			continue
		default:
			return line, err
		}
	}
}
