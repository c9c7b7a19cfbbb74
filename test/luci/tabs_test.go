package luci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tabsBackend answers every method the app's tabs call, from fixtures
// (testdata/) and a generated history it filters as the agent does
// (agent/history's own tests pin the agent's filtering), and records the
// params of each call.
type tabsBackend struct {
	t      *testing.T
	mu     sync.Mutex
	params map[string][]map[string]any
	events []map[string]any
}

func newTabsBackend(t *testing.T) *tabsBackend {
	tb := &tabsBackend{t: t, params: map[string][]map[string]any{}}
	base := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	for seq := 1; seq <= 120; seq++ {
		ev := map[string]any{"seq": seq, "time": base.Add(time.Duration(seq) * time.Minute).Format(time.RFC3339), "severity": "info"}
		switch seq % 3 {
		case 0:
			ev["kind"], ev["protocol"] = "passthrough.changed", "pptp"
			ev["message"] = "pptp passthrough: default → allow"
			ev["details"] = map[string]any{"from": "default", "to": "allow", "origin": "rpcd", "user": "admin"}
		case 1:
			ev["kind"], ev["protocol"], ev["host"] = "vpn.finding", "ipsec", "192.168.1.10"
			ev["message"] = "agent text"
			ev["peer"] = "203.0.113.10"
			// as the agent records it: who and where on the event, not in details
			ev["details"] = map[string]any{"code": "vpn-ok", "severity": "ok", "params": map[string]any{}}
		default:
			ev["kind"], ev["message"] = "agent.started", "vpnpass agent started"
		}
		tb.events = append([]map[string]any{ev}, tb.events...) // newest first
	}
	return tb
}

func (tb *tabsBackend) read(name string) json.RawMessage {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.t.Fatal(err)
	}
	return b
}

func (tb *tabsBackend) call(method string, raw json.RawMessage) (json.RawMessage, error) {
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	delete(p, sessionArg)
	tb.mu.Lock()
	tb.params[method] = append(tb.params[method], p)
	tb.mu.Unlock()
	switch method {
	case "status":
		return tb.status(), nil
	case "doctor":
		return tb.doctor(p), nil
	case "probe":
		return tb.read("probe.json"), nil
	case "explain":
		return tb.read("explain.json"), nil
	case "history":
		return tb.history(p), nil
	}
	return nil, fmt.Errorf("no fixture for %s", method)
}

// status is the locked-down fw4 status with two inbound VPN servers: one
// not forwarded (its code, params and texts as the agent sends them), one working.
func (tb *tabsBackend) status() json.RawMessage {
	var st map[string]any
	if err := json.Unmarshal(tb.read("status-fw4-locked.json"), &st); err != nil {
		tb.t.Fatal(err)
	}
	st["inbound"] = map[string]any{
		"pptp": []any{map[string]any{"server": "192.168.1.20", "family": "ipv4", "forwarded_to": nil, "verdict": "drop",
			"decided_by": map[string]any{"policy": "drop", "table": "fw4", "chain": "forward_wan"},
			"code":       "inbound-not-forwarded", "message": "PPTP clients on the internet reach this router, but nothing forwards TCP 1723 to 192.168.1.20.",
			"advice": "Add a port forward of TCP 1723 to 192.168.1.20.",
			"params": map[string]any{"peer": "198.51.100.7", "wan_address": "203.0.113.2", "matches": []any{"tcp/1723", "gre"}}}},
		"ipsec": []any{map[string]any{"server": "192.168.1.21", "family": "ipv4", "forwarded_to": "192.168.1.21", "verdict": "accept",
			"decided_by": map[string]any{"table": "fw4", "chain": "forward_wan", "handle": 57, "comment": "!fw4: VPN-server"}}},
	}
	b, _ := json.Marshal(st)
	return b
}

// doctor answers the hosts fixture, one host's part when asked for one.
func (tb *tabsBackend) doctor(p map[string]any) json.RawMessage {
	var d struct {
		Findings []map[string]any `json:"findings"`
		Sessions []map[string]any `json:"sessions"`
		Source   string           `json:"source"`
	}
	if err := json.Unmarshal(tb.read("doctor-hosts.json"), &d); err != nil {
		tb.t.Fatal(err)
	}
	if host, _ := p["host"].(string); host != "" {
		keep := func(list []map[string]any) []map[string]any {
			out := []map[string]any{}
			for _, x := range list {
				if x["host"] == host {
					out = append(out, x)
				}
			}
			return out
		}
		d.Findings, d.Sessions = keep(d.Findings), keep(d.Sessions)
	}
	b, _ := json.Marshal(d)
	return b
}

func (tb *tabsBackend) history(p map[string]any) json.RawMessage {
	limit, _ := p["limit"].(float64)
	before, _ := p["before"].(float64)
	kind, _ := p["kind"].(string)
	proto, _ := p["protocol"].(string)
	out := []map[string]any{}
	for _, ev := range tb.events {
		k := ev["kind"].(string)
		switch {
		case before > 0 && float64(ev["seq"].(int)) >= before,
			kind != "" && k != kind && !(strings.HasSuffix(kind, ".") && strings.HasPrefix(k, kind)),
			proto != "" && ev["protocol"] != proto:
			continue
		}
		if len(out) == int(limit) {
			break
		}
		out = append(out, ev)
	}
	b, _ := json.Marshal(map[string]any{"events": out})
	return b
}

func (tb *tabsBackend) last(method string) map[string]any {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	l := tb.params[method]
	if len(l) == 0 {
		return nil
	}
	return l[len(l)-1]
}

func (tb *tabsBackend) count(method string) int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.params[method])
}

// click presses a button and waits until cond holds.
func (b *browser) click(id, what, cond string) {
	b.t.Helper()
	b.MustEval(`(() => { document.getElementById(`+jsQuote(id)+`).click(); return true; })()`, nil)
	b.WaitFor(what, cond, 10*time.Second)
}

func jsQuote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// checkClean: no script errors, no null/undefined printed, and in Japanese
// no text the catalog lacks.
func checkClean(t *testing.T, b *browser, lang, view string) {
	t.Helper()
	var errs []string
	b.MustEval("window.__errors", &errs)
	if len(errs) > 0 {
		t.Errorf("%s: page errors: %q", view, errs)
	}
	var text string
	b.MustEval(`document.getElementById('view').innerText`, &text)
	for _, bad := range []string{"null", "undefined", "NaN", "[object Object]"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s prints %q:\n%s", view, bad, text)
		}
	}
	if lang != "ja" {
		return
	}
	var untranslated map[string]bool
	b.MustEval("window.__untranslated || {}", &untranslated)
	for _, same := range sameInJapanese(t) {
		delete(untranslated, same)
	}
	if len(untranslated) > 0 {
		t.Errorf("%s: strings the Japanese catalog lacks: %v", view, untranslated)
	}
}
