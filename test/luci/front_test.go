package luci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// front stands in for what answers a LuCI page on a router besides
// uhttpd's ubus handler for the object vpnpass (the server stand-in, which
// it forwards to): LuCI's dispatcher (the page bootstrap carrying the
// node's permission from the session, admin/uci/apply_rollback and
// confirm) and rpcd's "uci" and "session access". Apply commits the
// session's staged changes to the config file and calls onApply, as rpcd's
// uci apply ends in reload_config and procd's reload trigger of vpnpass
// (SIGHUP to the agent). It can also make the vpnpass object fail as a
// router would: missing (-32000), denied (-32002), or hung.
type front struct {
	t      *testing.T
	srv    *server
	next   *httputil.ReverseProxy
	client *http.Client
	url    string

	mu      sync.Mutex
	conf    *uci.File
	path    string                       // the config file apply writes; "" keeps it in memory
	staged  map[string][]func(*uci.File) // per session
	writers map[string]bool              // session -> may write uci vpnpass
	tokens  map[string]bool
	fault   string // "", "missing", "denied", "hang"
	onApply func()
	calls   map[string]int // object.method -> calls, forwarded ones included
	batches int
}

// startFront serves the page on ln; confPath is the vpnpass config the
// form edits ("" starts from the shipped default, in memory).
func startFront(t *testing.T, ln net.Listener, backend ubusBackend, confPath string) *front {
	t.Helper()
	mem := newMemListener()
	f := &front{t: t, srv: startServer(t, mem, backend), path: confPath,
		staged: map[string][]func(*uci.File){}, writers: map[string]bool{sessionID: true},
		tokens: map[string]bool{}, calls: map[string]int{}}
	src := confPath
	if src == "" {
		src = filepath.Join(repoRoot, "openwrt", "files", "etc", "config", "vpnpass")
	}
	conf, err := uci.ParseFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f.conf = conf
	f.client = &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return mem.dial() }}}
	f.next = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "standin"})
	f.next.Transport = f.client.Transport
	mux := http.NewServeMux()
	mux.HandleFunc("/", f.index)
	mux.HandleFunc("/ubus/", f.ubus)
	mux.HandleFunc("/cgi-bin/luci/admin/uci/apply_rollback", f.apply)
	mux.HandleFunc("/cgi-bin/luci/admin/uci/confirm", f.confirm)
	mux.Handle("/standin/", f.next)
	mux.Handle("/luci-static/", f.next)
	mux.Handle("/i18n/", f.next)
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	f.url = "http://" + ln.Addr().String()
	return f
}

// index is the page the dispatcher renders: the session's permission on
// the node (write on the ACL group luci-app-vpnpass) as nodespec.readonly.
func (f *front) index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	sid := q.Get("sid")
	if sid == "" {
		sid = sessionID
	}
	f.mu.Lock()
	readonly := !f.writers[sid]
	f.mu.Unlock()
	data := map[string]string{"Lang": "en", "Session": sid, "Readonly": fmt.Sprint(readonly), "RPCTimeout": q.Get("rpctimeout"),
		"View": "vpnpass/overview", "Include": q.Get("include")}
	if v := q.Get("view"); v != "" {
		data["View"] = v // vpnpass/hosts, vpnpass/tools, vpnpass/history (the app's tabs)
	}
	if lang := q.Get("lang"); lang != "" && lang != "en" {
		data["Lang"], data["Catalog"] = lang, "/i18n/"+lang+".js"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTmpl.Execute(w, data); err != nil {
		f.t.Errorf("index: %v", err)
	}
}

type frontCall struct {
	ID      json.RawMessage   `json:"id"`
	JSONRPC string            `json:"jsonrpc"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

func (f *front) ubus(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var reqs []frontCall
	if err := json.Unmarshal(body.Bytes(), &reqs); err != nil {
		f.t.Errorf("LuCI's rpc.js sends a JSON array, got %s", body.Bytes())
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	f.batches++
	f.mu.Unlock()
	replies := make([]any, len(reqs))
	var fwd []int
	for i, q := range reqs {
		var sid, obj, method string
		if len(q.Params) == 4 {
			_ = json.Unmarshal(q.Params[0], &sid)
			_ = json.Unmarshal(q.Params[1], &obj)
			_ = json.Unmarshal(q.Params[2], &method)
		}
		f.mu.Lock()
		f.calls[obj+"."+method]++
		fault := f.fault
		f.mu.Unlock()
		switch {
		case obj == "uci" || (obj == "session" && method == "access"):
			replies[i] = map[string]any{"jsonrpc": "2.0", "id": q.ID, "result": f.local(sid, obj, method, q.Params[3])}
		case obj == "vpnpass" && fault == "hang":
			<-r.Context().Done() // the browser gives up (rpctimeout)
			return
		case obj == "vpnpass" && fault != "":
			e := map[string]any{"missing": map[string]any{"code": -32000, "message": "Object not found"},
				"denied": map[string]any{"code": -32002, "message": "Access denied"}}[fault]
			replies[i] = map[string]any{"jsonrpc": "2.0", "id": q.ID, "error": e}
		default:
			fwd = append(fwd, i)
		}
	}
	if len(fwd) > 0 && !f.forward(reqs, fwd, replies) {
		http.Error(w, "stand-in failed", 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(replies)
}

// forward sends the calls at idx to the uhttpd+rpcd stand-in as one batch.
func (f *front) forward(reqs []frontCall, idx []int, replies []any) bool {
	var batch []frontCall
	for _, i := range idx {
		batch = append(batch, reqs[i])
	}
	b, _ := json.Marshal(batch)
	res, err := f.client.Post("http://standin/ubus", "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Errorf("forward: %v", err)
		return false
	}
	defer res.Body.Close()
	var out []json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out) != len(idx) {
		f.t.Errorf("forward: %d replies for %d calls: %v", len(out), len(idx), err)
		return false
	}
	for k, i := range idx {
		replies[i] = out[k]
	}
	return true
}

// local answers rpcd's uci get/set/delete on the package vpnpass, staged
// per session until apply, and session access (scope uci).
func (f *front) local(sid, obj, method string, raw json.RawMessage) []any {
	var p struct {
		Config, Section, Scope, Object, Function string
		Values                                   map[string]string
		Options                                  []string
	}
	if json.Unmarshal(raw, &p) != nil {
		return []any{2}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	write, known := f.writers[sid]
	switch {
	case obj == "session":
		return []any{0, map[string]bool{"access": p.Scope == "uci" && p.Object == "vpnpass" && (p.Function == "read" || write)}}
	case known && p.Config == "firewall" && method == "get":
		return []any{0, map[string]any{"values": firewallSections}}
	case !known || p.Config != "vpnpass":
		return []any{6}
	case method == "get":
		return []any{0, map[string]any{"values": f.values(sid)}}
	case !write:
		return []any{6}
	case method == "set":
		f.staged[sid] = append(f.staged[sid], func(c *uci.File) {
			if s := c.Section(p.Section); s != nil {
				for k, v := range p.Values {
					s.Set(k, v)
				}
			}
		})
	case method == "delete":
		f.staged[sid] = append(f.staged[sid], func(c *uci.File) {
			if s := c.Section(p.Section); s != nil {
				for _, o := range p.Options {
					s.Delete(o)
				}
			}
		})
	default:
		return []any{3}
	}
	return []any{0}
}

// values is `uci get` as the session sees it: committed plus staged.
func (f *front) values(sid string) map[string]map[string]any {
	c, _ := uci.Parse(uci.Render(f.conf))
	for _, change := range f.staged[sid] {
		change(c)
	}
	out := map[string]map[string]any{}
	for i, s := range c.Sections {
		v := map[string]any{".type": s.Type, ".name": s.Name, ".anonymous": false, ".index": i}
		for _, o := range s.Options {
			if o.List {
				v[o.Name] = o.Values
			} else {
				v[o.Name] = o.Value()
			}
		}
		out[s.Name] = v
	}
	return out
}

func (f *front) apply(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("sid")
	f.mu.Lock()
	changes := f.staged[sid]
	delete(f.staged, sid)
	for _, change := range changes {
		change(f.conf)
	}
	token := fmt.Sprintf("%032x", time.Now().UnixNano())
	f.tokens[token] = true
	data := uci.Render(f.conf)
	hook := f.onApply
	f.mu.Unlock()
	if len(changes) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if f.path != "" {
		if err := os.WriteFile(f.path, data, 0o644); err != nil {
			f.t.Errorf("apply: %v", err)
		}
	}
	if hook != nil {
		hook()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
}

func (f *front) confirm(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.tokens[r.URL.Query().Get("token")]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "bad token", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *front) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[call]
}

func (f *front) setFault(fault string) {
	f.mu.Lock()
	f.fault = fault
	f.mu.Unlock()
}

func (f *front) committed(section, option string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.conf.Section(section); s != nil {
		v, _ := s.Get(option)
		return v
	}
	return ""
}

// memListener hands the front's connections to the server stand-in
// without a socket (the page's listener may live in a lab namespace).
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (m *memListener) dial() (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case m.conns <- b:
		return a, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *memListener) Close() error   { m.once.Do(func() { close(m.done) }); return nil }
func (m *memListener) Addr() net.Addr { return &net.UnixAddr{Name: "standin", Net: "memory"} }

// login is rpcd's session.login through the page's /ubus; the new
// session may write uci vpnpass when its ACL grants the app's write half.
func (f *front) login(t *testing.T, user, password string) string {
	t.Helper()
	body := fmt.Sprintf(`[{"jsonrpc":"2.0","id":1,"method":"call","params":["00000000000000000000000000000000","session","login",{"username":%q,"password":%q}]}]`, user, password)
	res, err := http.Post(f.url+"/ubus/", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out []struct{ Result []json.RawMessage }
	var s struct {
		Session string `json:"ubus_rpc_session"`
	}
	if json.NewDecoder(res.Body).Decode(&out) != nil || len(out) != 1 || len(out[0].Result) != 2 || json.Unmarshal(out[0].Result[1], &s) != nil {
		t.Fatalf("login %s failed: %+v", user, out)
	}
	l := f.srv.logins[user]
	f.mu.Lock()
	f.writers[s.Session] = len(aclWrites(t, l.acl, l.group)) > 0
	f.mu.Unlock()
	return s.Session
}

// aclWrites is what the write half of an ACL group grants.
func aclWrites(t *testing.T, file, group string) []string {
	t.Helper()
	var acl map[string]struct {
		Write map[string]json.RawMessage `json:"write"`
	}
	b, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(b, &acl) != nil {
		t.Fatalf("ACL %s: %v", file, err)
	}
	var out []string
	for k := range acl[group].Write {
		out = append(out, k)
	}
	return out
}

// firewallSections is `uci get firewall` of a router with one user rule
// (the tools tab links a rule fw4 made from it) and fw4's defaults.
var firewallSections = map[string]map[string]any{
	"cfg01": {".type": "defaults", ".name": "cfg01", "input": "REJECT", "forward": "REJECT"},
	"cfg0a": {".type": "rule", ".name": "cfg0a", "name": "Block-ESP", "src": "lan", "dest": "wan", "proto": "esp", "target": "DROP"},
	"cfg0b": {".type": "redirect", ".name": "cfg0b", "name": "VPN-server", "src": "wan", "src_dport": "1723", "dest_ip": "192.168.1.20"},
}
