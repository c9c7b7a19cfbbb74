package cdp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// event records the page's uncaught exceptions and console errors.
func (b *Browser) event(msg []byte) {
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

// PageErrors returns the page's uncaught exceptions and console errors
// recorded so far.
func (b *Browser) PageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Eval runs a JS expression in the page (promises awaited) and decodes its
// JSON value into out.
func (b *Browser) Eval(expr string, out any) error {
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
	err := b.Try(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
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

// MustEval is Eval failing the test on an error.
func (b *Browser) MustEval(expr string, out any) {
	b.t.Helper()
	if err := b.Eval(expr, out); err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
}

// WaitFor polls a JS condition until it is true (polling, not timing: the
// deadline only bounds a hung page).
func (b *Browser) WaitFor(what, cond string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		var ok bool
		if last = b.Eval("Boolean("+cond+")", &ok); last == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The stand-in page collects its own errors in window.__errors; real
	// LuCI's reach us only as DevTools events.
	errs := b.PageErrors()
	var own []string
	_ = b.Eval("window.__errors || []", &own)
	var text string
	_ = b.Eval("document.body ? document.body.innerText : ''", &text)
	b.t.Fatalf("page never showed %s (%s), last error %v, page errors %q\npage text:\n%s", what, cond, last, append(own, errs...), text)
}

// Navigate loads url in the page (without waiting for it).
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Call(b.session, "Page.navigate", map[string]any{"url": url}, nil)
}

// Screenshot saves the whole page, laid out width CSS pixels wide (390:
// a phone), as a PNG.
func (b *Browser) Screenshot(path string, width int) {
	b.t.Helper()
	metrics := map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
	b.Call(b.session, "Emulation.setDeviceMetricsOverride", metrics, nil)
	var height float64
	b.MustEval("Math.ceil(document.documentElement.scrollHeight)", &height)
	metrics["height"] = int(height)
	b.Call(b.session, "Emulation.setDeviceMetricsOverride", metrics, nil)
	var shot struct{ Data string }
	b.Call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
