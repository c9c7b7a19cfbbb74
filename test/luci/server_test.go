package luci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

// repo paths the pages are served from.
var (
	repoRoot     = filepath.Join("..", "..")
	appDir       = filepath.Join(repoRoot, "openwrt", "luci-app-vpnpass")
	resourcesDir = filepath.Join(appDir, "htdocs", "luci-static", "resources")
	aclFile      = filepath.Join(appDir, "root", "usr", "share", "rpcd", "acl.d", "luci-app-vpnpass.json")
	artifacts    = filepath.Join(repoRoot, "test", "artifacts")
)

// ubusBackend answers one ubus call on the object vpnpass with the JSON
// object `vpnpass rpcd call` would print.
type ubusBackend func(method string, params json.RawMessage) (json.RawMessage, error)

// server stands in for uhttpd + rpcd: static files, the translation table
// LuCI would serve, and ubus JSON-RPC at /ubus, allowing exactly the
// methods the app's rpcd ACL grants.
type server struct {
	t        *testing.T
	backend  ubusBackend
	mu       sync.Mutex
	sessions map[string]map[string]bool // session id -> vpnpass methods granted
	logins   map[string]login           // rpcd "config login" entries
	calls    []string
	url      string
}

// login is an rpcd login: a password and the ACL groups it may use.
type login struct {
	password string
	acl      string // file under acl.d granting the methods
	group    string
}

const sessionID = "0123456789abcdef0123456789abcdef"

var indexTmpl = template.Must(template.ParseFiles("standin/index.html"))

// startServer serves on ln (a 127.0.0.1 listener, made where the browser
// can reach it).
func startServer(t *testing.T, ln net.Listener, backend ubusBackend) *server {
	t.Helper()
	s := &server{t: t, backend: backend, logins: map[string]login{},
		sessions: map[string]map[string]bool{sessionID: aclMethods(t, aclFile, "luci-app-vpnpass")}}
	mux := http.NewServeMux()
	mux.Handle("/standin/", http.StripPrefix("/standin/", http.FileServer(http.Dir("standin"))))
	mux.Handle("/luci-static/resources/", http.StripPrefix("/luci-static/resources/", http.FileServer(http.Dir(resourcesDir))))
	mux.HandleFunc("/i18n/", s.catalog)
	mux.HandleFunc("/ubus", s.ubus)
	mux.HandleFunc("/", s.index)
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.url = "http://" + ln.Addr().String()
	return s
}

// aclMethods reads the read and write grants of an rpcd ACL group on the
// ubus object vpnpass (the LuCI admin session has both of the app's).
func aclMethods(t *testing.T, file, group string) map[string]bool {
	t.Helper()
	var acl map[string]struct {
		Read, Write struct {
			Ubus map[string][]string `json:"ubus"`
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &acl); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	a := acl[group]
	for _, m := range append(a.Read.Ubus["vpnpass"], a.Write.Ubus["vpnpass"]...) {
		out[m] = true
	}
	return out
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	lang := r.URL.Query().Get("lang")
	data := map[string]string{"Lang": "en", "Session": sessionID}
	if lang != "" && lang != "en" {
		data["Lang"], data["Catalog"] = lang, "/i18n/"+lang+".js"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTmpl.Execute(w, data); err != nil {
		s.t.Errorf("index: %v", err)
	}
}

// catalog serves window.TR as LuCI does (hash -> text) from the .lmo our
// converter compiles from po/<lang>/vpnpass.po.
func (s *server) catalog(w http.ResponseWriter, r *http.Request) {
	lang := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/i18n/"), ".js")
	tr, err := compileCatalog(lang)
	if err != nil {
		s.t.Errorf("catalog %s: %v", lang, err)
		http.Error(w, err.Error(), 500)
		return
	}
	b, _ := json.Marshal(tr)
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	fmt.Fprintf(w, "window.TR = %s;\n", b)
}

func compileCatalog(lang string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(appDir, "po", lang, "vpnpass.po"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, plural, err := lmo.ParsePO(f)
	if err != nil {
		return nil, err
	}
	b, err := lmo.WriteLMO(entries, plural)
	if err != nil {
		return nil, err
	}
	return lmo.ReadLMO(b)
}

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

// JSON-RPC errors of uhttpd's /ubus (uhttpd ubus.c, json_errors): HTTP 200
// with {"jsonrpc":"2.0","id":..,"error":{"code":..,"message":..}}.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var (
	errParse         = &rpcError{-32700, "Parse error"}
	errMethod        = &rpcError{-32601, "Method not found"}
	errParams        = &rpcError{-32602, "Invalid parameters"}
	errObject        = &rpcError{-32000, "Object not found"}
	errAccess        = &rpcError{-32002, "Access denied"}
	anonymousSession = strings.Repeat("0", 32)
)

// sessionArg is what uhttpd adds to every call's arguments (and refuses
// from the client).
const sessionArg = "ubus_rpc_session"

// ubus handles uhttpd-mod-ubus JSON-RPC as uhttpd does: one request, or a
// batch array (LuCI's rpc.js sends the calls issued together as one)
// answered by an array in the same order. "call" params are [session,
// object, method, args]; a call's outcome is {"result": [status]} or
// {"result": [0, data]}; an unknown object, a denied call (no such session,
// or its ACL does not grant the method) or a bad request is an "error"
// object instead. Only session.login answers the status 6 (wrong login).
func (s *server) ubus(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	raw := bytes.TrimSpace(body.Bytes())
	var reqs []json.RawMessage
	batch := len(raw) > 0 && raw[0] == '['
	if !batch {
		raw = append(append([]byte{'['}, raw...), ']')
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.Unmarshal(raw, &reqs); err != nil || len(reqs) == 0 {
		_ = json.NewEncoder(w).Encode(reply(nil, nil, errParse))
		return
	}
	var replies []any
	for _, one := range reqs {
		var q rpcRequest
		if err := json.Unmarshal(one, &q); err != nil {
			replies = append(replies, reply(nil, nil, errParse))
			continue
		}
		result, e := s.call(q)
		replies = append(replies, reply(q.ID, result, e))
	}
	if batch {
		_ = json.NewEncoder(w).Encode(replies)
		return
	}
	_ = json.NewEncoder(w).Encode(replies[0])
}

func reply(id json.RawMessage, result []any, e *rpcError) map[string]any {
	m := map[string]any{"jsonrpc": "2.0", "id": id}
	if e != nil {
		m["error"] = e
	} else {
		m["result"] = result
	}
	return m
}

func (s *server) call(q rpcRequest) ([]any, *rpcError) {
	if q.Method != "call" {
		return nil, errMethod
	}
	var sid, object, method string
	var args map[string]json.RawMessage
	if len(q.Params) != 4 || json.Unmarshal(q.Params[0], &sid) != nil || json.Unmarshal(q.Params[1], &object) != nil ||
		json.Unmarshal(q.Params[2], &method) != nil || json.Unmarshal(q.Params[3], &args) != nil || args == nil {
		return nil, errParse
	}
	if object != "vpnpass" && object != "session" {
		return nil, errObject
	}
	if object == "session" && method == "login" && sid == anonymousSession {
		return s.login(q.Params[3]), nil // the "unauthenticated" ACL grants it
	}
	s.mu.Lock()
	allowed := s.sessions[sid][method] && object == "vpnpass"
	if allowed {
		s.calls = append(s.calls, method)
	}
	s.mu.Unlock()
	if !allowed {
		return nil, errAccess
	}
	if _, ok := args[sessionArg]; ok {
		return nil, errParams
	}
	out, err := s.backend(method, withSession(q.Params[3], sid))
	if err != nil {
		s.t.Errorf("ubus vpnpass %s: %v", method, err)
		return []any{9}, nil // unspecified error
	}
	return []any{0, json.RawMessage(out)}, nil
}

// withSession is the arguments as rpcd hands them to an exec plugin: the
// client's, compact and in order, then the session key uhttpd appended.
func withSession(args json.RawMessage, sid string) json.RawMessage {
	var b bytes.Buffer
	_ = json.Compact(&b, args)
	obj := bytes.TrimSuffix(b.Bytes(), []byte("}"))
	if len(obj) > 1 {
		obj = append(obj, ',')
	}
	return json.RawMessage(fmt.Sprintf(`%s"%s":"%s"}`, obj, sessionArg, sid))
}

// login is rpcd's session.login: a new session holding the login's ACL.
func (s *server) login(params json.RawMessage) []any {
	var p struct{ Username, Password string }
	if json.Unmarshal(params, &p) != nil {
		return []any{2}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logins[p.Username]
	if !ok || l.password != p.Password {
		return []any{6}
	}
	sid := fmt.Sprintf("%032x", len(s.sessions)+1)
	s.sessions[sid] = aclMethods(s.t, l.acl, l.group)
	return []any{0, map[string]any{"ubus_rpc_session": sid, "timeout": 300, "expires": 300}}
}

func (s *server) called(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == method {
			n++
		}
	}
	return n
}
