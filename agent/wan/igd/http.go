package igd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/lines"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// A minimal HTTP/1.1 client over a TCP socket: one request per connection
// (Connection: close), bodies by Content-Length, chunked or until EOF. It
// replaces net/http, which would add megabytes to the router binary, for the
// two requests UPnP needs (GET the description, POST one SOAP action).

const (
	maxBody       = 256 << 10
	maxHeaderLine = 8 << 10
	maxHeaders    = 64
)

// httpURL is an http:// URL whose host is an IP literal.
type httpURL struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	host netip.AddrPort
	path string // with query, starts with '/'
}

func (u httpURL) String() string { return "http://" + u.host.String() + u.path }

// parseURL accepts only http:// URLs with an IPv4 or IPv6 literal host: a
// gateway's description never needs DNS, and refusing names keeps the client
// from being pointed at arbitrary hosts.
func parseURL(s string) (u httpURL, err error) {
	rest, ok := strings.CutPrefix(s, "http://")
	if !ok {
		return u, fmt.Errorf("URL %q: only http:// is supported", s)
	}
	hostport, path := rest, "/"
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		hostport, path = rest[:j], rest[j:]
		if path[0] != '/' {
			path = "/" + path
		}
	}
	if j := strings.IndexByte(path, '#'); j >= 0 {
		path = path[:j]
	}
	if strings.ContainsAny(path, " \r\n\t") {
		return u, fmt.Errorf("URL %q: bad characters in the path", s)
	}
	host, port := hostport, "80"
	if h, p, ok := sock.SplitHostPort(hostport); ok {
		host, port = h, p
	}
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return u, fmt.Errorf("URL %q: host is not an IP address", s)
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil || pn == 0 {
		return u, fmt.Errorf("URL %q: bad port", s)
	}
	u.host, u.path = netip.AddrPortFrom(addr.Unmap(), uint16(pn)), path
	return u, nil
}

// resolve returns ref relative to base (RFC 3986 in the forms UPnP uses:
// absolute, absolute path, or relative path).
func (u httpURL) resolve(ref string) (httpURL, error) {
	switch {
	case strings.HasPrefix(ref, "http://"):
		return parseURL(ref)
	case strings.HasPrefix(ref, "/"):
		return parseURL("http://" + u.host.String() + ref)
	case strings.Contains(ref, "://"):
		return parseURL(ref) // says what parseURL says of any other scheme
	}
	dir := u.path
	if j := strings.IndexByte(dir, '?'); j >= 0 {
		dir = dir[:j]
	}
	dir = dir[:strings.LastIndexByte(dir, '/')+1]
	return parseURL("http://" + u.host.String() + dir + ref)
}

// response is a received HTTP response.
type response struct {
	status int
	header map[string]string // lower-case names
	body   string
}

// do sends one request and reads the whole response. headers are written as
// given (no user input reaches them unchecked). Every error names the request.
func do(ctx context.Context, method string, u httpURL, headers []string, body string) (resp response, err error) {
	if err = exchange(ctx, method, u, headers, body, &resp); err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return resp, nil
}

// exchange sends the request and reads the response into resp.
func exchange(ctx context.Context, method string, u httpURL, headers []string, body string, resp *response) error {
	c, err := sock.DialTCP(ctx, u.host)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// No defers (smaller code): see Probe.
	stop := c.CallsEndWith(ctx)
	err = send(c, method, u, headers, body, resp)
	stop()
	c.Close()
	return err
}

// send writes the request and reads the response into resp.
func send(c *sock.Conn, method string, u httpURL, headers []string, body string, resp *response) error {
	req := method + " " + u.path + " HTTP/1.1\r\nHost: " + u.host.String() +
		"\r\nConnection: close\r\nUser-Agent: vpnpass\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if body != "" || method == "POST" {
		req += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"+body); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return readResponse(lines.NewReader(c, 4096), resp)
}

// readResponse parses a status line, headers and body.
// On an error resp may be partly filled.
func readResponse(r *lines.Reader, resp *response) error {
	line, err := readLine(r)
	if err != nil {
		return fmt.Errorf("status line: %w", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || status < 100 || status > 999 {
		return errors.New("not an HTTP response: " + strconv.Quote(clip(line)))
	}
	resp.status = status
	if resp.header, err = readHeaders(r); err != nil {
		return err
	}
	resp.body, err = readBody(r, resp.header)
	return err
}

func readHeaders(r *lines.Reader) (map[string]string, error) {
	h := map[string]string{}
	for n := 0; ; n++ {
		line, err := readLine(r)
		if err != nil {
			return nil, fmt.Errorf("headers: %w", err)
		}
		if line == "" {
			return h, nil
		}
		if n >= maxHeaders {
			return nil, errors.New("too many headers")
		}
		name, value, ok := headerField(line)
		if !ok {
			return nil, errors.New("bad header line " + strconv.Quote(clip(line)))
		}
		h[name] = value
	}
}

// headerField splits a header line into its lower-case name and its value,
// for HTTP responses and SSDP answers alike.
func headerField(line string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(line, ":")
	return strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value), ok
}

func readBody(r *lines.Reader, h map[string]string) (string, error) {
	if strings.EqualFold(h["transfer-encoding"], "chunked") {
		return readChunked(r)
	}
	if cl, ok := h["content-length"]; ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxBody {
			return "", fmt.Errorf("bad or too large Content-Length %q", clip(cl))
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", fmt.Errorf("body: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	if len(b) > maxBody {
		return "", fmt.Errorf("body larger than %d bytes", maxBody)
	}
	return string(b), nil
}

func readChunked(r *lines.Reader) (string, error) {
	var body strings.Builder
	for {
		line, err := readLine(r)
		if err != nil {
			return "", fmt.Errorf("chunk size: %w", err)
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 32)
		if err != nil || body.Len()+int(n) > maxBody {
			return "", errors.New("bad or too large chunk " + strconv.Quote(clip(line)))
		}
		if n == 0 {
			return body.String(), nil // trailers, if any, are not needed
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", fmt.Errorf("chunk: %w", err)
		}
		if string(b[n:]) != "\r\n" {
			return "", errors.New("chunk not followed by CRLF")
		}
		body.Write(b[:n])
	}
}

// readLine reads one CRLF- or LF-terminated line of bounded length.
func readLine(r *lines.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxHeaderLine {
			return "", errors.New("line too long")
		}
		if err == lines.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// clip shortens peer-supplied text for error messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
