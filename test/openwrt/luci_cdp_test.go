package openwrt

// A copy of test/luci/cdp_test.go (package luci, not importable from here),
// changed where the real page needs it: the browser trusts the router's
// self-signed certificate, and the page's exceptions and console errors are
// collected from DevTools events (the stand-in page collected its own).

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// chromiumFlags keep the headless browser off the network: no background
// services, and every host name but the lab router's LAN address resolves
// to nothing.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
	"--disable-extensions", "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
	"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 192.168.1.1",
	"--ignore-certificate-errors", "--remote-debugging-pipe", "--window-size=1200,900", "about:blank",
}

// findChromium returns Debian's chromium; skip without it, fail under CI.
func findChromium(t *testing.T) string {
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

// browser is a headless Chromium driven over the DevTools protocol on
// --remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File // we write commands
	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpReply
	session string
	log     bytes.Buffer
	dead    bool     // the browser closed its end of the pipe
	errors  []string // exceptions and console errors of the page
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// startBrowser starts Chromium; start runs the prepared command (so a lab
// test can start it inside a namespace). lang sets the browser's locale.
func startBrowser(t *testing.T, lang string, start func(*exec.Cmd) error) *browser {
	t.Helper()
	chromium := findChromium(t)
	cmdR, cmdW, err := os.Pipe() // browser reads commands on fd 3
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // browser writes replies on fd 4
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--user-data-dir=" + t.TempDir(), "--lang=" + lang}, chromiumFlags...)
	b := &browser{t: t, in: cmdW, waiting: map[int]chan cdpReply{}}
	b.cmd = exec.Command(chromium, args...)
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stdout, b.cmd.Stderr = &b.log, &b.log
	b.cmd.Env = append(os.Environ(), "LANG="+lang+".UTF-8", "LANGUAGE="+lang)
	if err := start(b.cmd); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	cmdR.Close()
	outW.Close()
	go b.read(outR)
	t.Cleanup(b.close)
	var target struct{ TargetID string }
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	b.call(b.session, "Page.enable", nil, nil)
	b.call(b.session, "Runtime.enable", nil, nil)
	return b
}

func (b *browser) read(r *os.File) {
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
			cdpReply
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
			ch <- m.cdpReply
		}
	}
}

// event records the page's uncaught exceptions and console errors.
func (b *browser) event(msg []byte) {
	var ev struct {
		Method string
		Params struct {
			Type string
			Args []struct {
				Value       any
				Description string
			}
			ExceptionDetails struct {
				Text      string
				Exception struct{ Description string }
			}
		}
	}
	if json.Unmarshal(msg, &ev) != nil {
		return
	}
	var text string
	switch {
	case ev.Method == "Runtime.exceptionThrown":
		text = ev.Params.ExceptionDetails.Text + " " + ev.Params.ExceptionDetails.Exception.Description
	case ev.Method == "Runtime.consoleAPICalled" && ev.Params.Type == "error":
		for _, a := range ev.Params.Args {
			text += fmt.Sprint(a.Value, a.Description) + " "
		}
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, text)
	b.mu.Unlock()
}

// pageErrors returns the errors recorded so far.
func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// call sends one DevTools command and decodes its result into out.
func (b *browser) call(session, method string, params any, out any) {
	b.t.Helper()
	if err := b.try(session, method, params, out); err != nil {
		b.t.Fatalf("%s: %v\nchromium log:\n%s", method, err, b.log.String())
	}
}

func (b *browser) try(session, method string, params any, out any) error {
	b.mu.Lock()
	if b.dead {
		b.mu.Unlock()
		return errors.New("browser closed the pipe")
	}
	b.next++
	id := b.next
	ch := make(chan cdpReply, 1)
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

// eval runs a JS expression in the page (promises awaited) and decodes its
// JSON value into out.
func (b *browser) eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := b.try(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s %s", r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

func (b *browser) mustEval(expr string, out any) {
	b.t.Helper()
	if err := b.eval(expr, out); err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
}

// waitFor polls a JS condition until it is true (polling, not timing: the
// deadline only bounds a hung page).
func (b *browser) waitFor(what, cond string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		var ok bool
		if last = b.eval("Boolean("+cond+")", &ok); last == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	errs := b.pageErrors()
	var html string
	_ = b.eval("document.body ? document.body.innerText : ''", &html)
	b.t.Fatalf("page never showed %s (%s), last error %v, page errors %q\npage text:\n%s", what, cond, last, errs, html)
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.call(b.session, "Page.navigate", map[string]any{"url": url}, nil)
}

// screenshot saves the whole page, laid out width CSS pixels wide (390:
// a phone), as a PNG.
func (b *browser) screenshot(path string, width int) {
	b.t.Helper()
	metrics := map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
	b.call(b.session, "Emulation.setDeviceMetricsOverride", metrics, nil)
	var height float64
	b.mustEval("Math.ceil(document.documentElement.scrollHeight)", &height)
	metrics["height"] = int(height)
	b.call(b.session, "Emulation.setDeviceMetricsOverride", metrics, nil)
	var shot struct{ Data string }
	b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

func (b *browser) close() {
	_ = b.try("", "Browser.close", nil, nil)
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
