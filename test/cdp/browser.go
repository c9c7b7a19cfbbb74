// Package cdp drives a headless Chromium over the DevTools protocol for the
// tests of the LuCI page (test/luci against the stand-in, test/openwrt
// against real LuCI). It speaks --remote-debugging-pipe: JSON messages
// ending in NUL on fds 3 and 4, so no port and no HTTP client are needed.
package cdp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Options choose how the browser is started.
type Options struct {
	Lang string // the browser's locale ("en", "ja")
	// Host is the only address host names may resolve to (127.0.0.1 when
	// empty): the browser stays off the network.
	Host string
	// TrustSelfSigned accepts any certificate (the router's self-signed one).
	TrustSelfSigned bool
	// Start runs the prepared command, so a lab test can start it inside a
	// namespace; (*exec.Cmd).Start when nil.
	Start func(*exec.Cmd) error
}

// baseFlags keep the headless browser quiet: no background services.
var baseFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
	"--disable-extensions", "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
}

// args are Chromium's command line for o, profile in dir.
func (o Options) args(dir string) []string {
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	args := append([]string{"--user-data-dir=" + dir, "--lang=" + o.Lang}, baseFlags...)
	args = append(args, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE "+host)
	if o.TrustSelfSigned {
		args = append(args, "--ignore-certificate-errors")
	}
	return append(args, "--remote-debugging-pipe", "--window-size=1200,900", "about:blank")
}

// FindChromium returns Debian's chromium; skip without it, fail under CI.
func FindChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium missing (apt: chromium fonts-ipafont-gothic)")
	}
	t.Skip("chromium missing (apt: chromium fonts-ipafont-gothic)")
	return ""
}

// Browser is one headless Chromium with one page attached.
type Browser struct {
	t       testing.TB
	cmd     *exec.Cmd
	in      *os.File // we write commands
	mu      sync.Mutex
	next    int
	waiting map[int]chan reply
	session string
	log     bytes.Buffer
	dead    bool     // the browser closed its end of the pipe
	errors  []string // exceptions and console errors of the page
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Start starts Chromium with a blank page; the browser is closed when the
// test ends.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	chromium := FindChromium(t)
	cmdR, cmdW, err := os.Pipe() // browser reads commands on fd 3
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // browser writes replies on fd 4
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, in: cmdW, waiting: map[int]chan reply{}}
	b.cmd = exec.Command(chromium, o.args(t.TempDir())...)
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stdout, b.cmd.Stderr = &b.log, &b.log
	b.cmd.Env = append(os.Environ(), "LANG="+o.Lang+".UTF-8", "LANGUAGE="+o.Lang)
	start := o.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(b.cmd); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	cmdR.Close()
	outW.Close()
	go b.read(outR)
	t.Cleanup(b.Close)
	var target struct{ TargetID string }
	b.Call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.Call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	b.Call(b.session, "Page.enable", nil, nil)
	b.Call(b.session, "Runtime.enable", nil, nil)
	return b
}

// Session is the page's DevTools session, for Call and Try (the empty
// session addresses the browser itself).
func (b *Browser) Session() string { return b.session }

func (b *Browser) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.dead = true
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		if m.ID == 0 {
			b.event(msg[:len(msg)-1])
			continue
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// Call sends one DevTools command and decodes its result into out; it
// fails the test on an error.
func (b *Browser) Call(session, method string, params any, out any) {
	b.t.Helper()
	if err := b.Try(session, method, params, out); err != nil {
		b.t.Fatalf("%s: %v\nchromium log:\n%s", method, err, b.log.String())
	}
}

// Try sends one DevTools command and decodes its result into out.
func (b *Browser) Try(session, method string, params any, out any) error {
	b.mu.Lock()
	if b.dead {
		b.mu.Unlock()
		return errors.New("browser closed the pipe")
	}
	b.next++
	id := b.next
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return errors.New("browser closed the pipe")
		}
		if r.Error != nil {
			return errors.New(r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("no answer within 30 s")
	}
}

// Close asks the browser to quit and kills it if it does not.
func (b *Browser) Close() {
	_ = b.Try("", "Browser.close", nil, nil)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
	b.in.Close()
}
