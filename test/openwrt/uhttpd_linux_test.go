package openwrt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// anonSession is rpcd's unauthenticated session id.
const anonSession = "00000000000000000000000000000000"

// web is uhttpd serving /ubus in the router, reached from the LAN host.
type web struct {
	url    string // https://192.168.1.1
	certPE string // the server certificate, PEM, for curl --cacert
	client *http.Client
}

// startUhttpd starts uhttpd as OpenWrt's init script does for LuCI (ubus
// prefix /ubus, script timeout 60 s, network timeout 30 s) on HTTP and
// HTTPS, with a fresh self-signed certificate for the router's LAN address.
func (r *router) startUhttpd(l *lab.Lab) *web {
	r.t.Helper()
	certPEM, keyPEM := selfSigned(r.t, lab.RouterLAN.String())
	writeFile(r.t, r.work, "tmp/uhttpd.crt", certPEM, 0o644)
	writeFile(r.t, r.work, "tmp/uhttpd.key", keyPEM, 0o600)
	writeFile(r.t, r.work, "tmp/www/index.html", "vpnpass test\n", 0o644)
	r.daemon("uhttpd", "-f", "-h", "/tmp/www", "-u", "/ubus", "-t", "60", "-T", "30",
		"-p", "0.0.0.0:80", "-s", "0.0.0.0:443", "-C", "/tmp/uhttpd.crt", "-K", "/tmp/uhttpd.key")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(certPEM))
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = l.LAN.Do(func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	w := &web{url: "https://" + lab.RouterLAN.String(), certPE: certPEM, client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
	r.waitFor("uhttpd", 5*time.Second, func() error {
		_, err := w.post(`{"jsonrpc":"2.0","id":0,"method":"list","params":["session"]}`)
		return err
	})
	return w
}

// post sends one JSON-RPC body to /ubus and returns the answer's body.
func (w *web) post(body string) ([]byte, error) {
	resp, err := w.client.Post(w.url+"/ubus", "application/json", bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %s: %s", resp.Status, b)
	}
	return b, err
}

// rpcReply is one JSON-RPC answer of uhttpd's /ubus.
type rpcReply struct {
	ID     json.RawMessage `json:"id"`
	Result []json.RawMessage
	Error  *struct {
		Code    int
		Message string
	}
}

// call sends {"method":"call","params":[sid, object, method, args]}.
func (w *web) call(sid, object, method, args string) (rpcReply, error) {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"call","params":[%q,%q,%q,%s]}`, sid, object, method, args)
	b, err := w.post(body)
	var rep rpcReply
	if err == nil {
		if err = json.Unmarshal(b, &rep); err != nil {
			err = fmt.Errorf("%w: %s", err, b)
		}
	}
	return rep, err
}

// login calls session.login and returns the session id.
func (w *web) login(t *testing.T, user, password string) string {
	t.Helper()
	rep, err := w.call(anonSession, "session", "login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	if err != nil || rep.Error != nil || len(rep.Result) != 2 {
		t.Fatalf("login %s: %v %+v", user, err, rep)
	}
	var s struct {
		Session string `json:"ubus_rpc_session"`
	}
	must(t, json.Unmarshal(rep.Result[1], &s))
	return s.Session
}

// object decodes a [0, {...}] result; it fails for a status or an error.
func (rep rpcReply) object() (map[string]any, error) {
	if rep.Error != nil {
		return nil, fmt.Errorf("JSON-RPC error %d %s", rep.Error.Code, rep.Error.Message)
	}
	if len(rep.Result) != 2 || string(rep.Result[0]) != "0" {
		return nil, fmt.Errorf("ubus status %s", joinRaw(rep.Result))
	}
	var v map[string]any
	return v, json.Unmarshal(rep.Result[1], &v)
}

func joinRaw(rs []json.RawMessage) string {
	b, _ := json.Marshal(rs)
	return string(b)
}

// selfSigned makes a P-256 certificate for ip (test-only crypto).
func selfSigned(t *testing.T, ip string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// TestUhttpdISPLogin follows README "Remote toggling for ISPs" over HTTPS
// from the LAN host: the isp login reads and writes through /ubus (uhttpd
// adds the session key), a method outside the ACL is JSON-RPC -32002, a
// wrong password is [6], and the set is recorded with origin rpcd, user isp.
func TestUhttpdISPLogin(t *testing.T) {
	l, r := openWrt(t)
	w := r.startUhttpd(l)
	sid := w.login(t, "isp", ispPassword)
	for _, c := range []struct{ method, args, key string }{
		{"status", `{}`, "protocols"},
		{"history", `{"kind":"passthrough.","limit":10}`, "events"},
		{"doctor", `{"host":"192.168.1.10"}`, "findings"},
		{"explain", `{"proto":"udp","dst":"203.0.113.10","dport":500}`, "verdict"},
		{"set", `{"protocol":"ipsec","mode":"allow"}`, "changed"},
	} {
		rep, err := w.call(sid, "vpnpass", c.method, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		v, err := rep.object()
		if err != nil {
			t.Errorf("%s %s through /ubus: %v", c.method, c.args, err)
		} else if _, ok := v[c.key]; !ok {
			t.Errorf("%s %s through /ubus answered %v, want a result with %q", c.method, c.args, v, c.key)
		}
	}
	if d := lastChange(t, r); d != nil && (d["origin"] != "rpcd" || d["user"] != "isp") {
		t.Errorf("set through /ubus as isp recorded details %v, want {origin: rpcd, user: isp}", d)
	}
	for _, denied := range [][2]string{{"vpnpass", "metrics"}, {"file", "read"}, {"uci", "get"}} {
		rep, err := w.call(sid, denied[0], denied[1], `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Error == nil || rep.Error.Code != -32002 || rep.Error.Message != "Access denied" {
			t.Errorf("%s.%s outside the ACL answered %+v, want JSON-RPC error -32002 Access denied", denied[0], denied[1], rep)
		}
	}
	rep, err := w.call(anonSession, "session", "login", `{"username":"isp","password":"wrong"}`)
	if err != nil || rep.Error != nil || joinRaw(rep.Result) != "[6]" {
		t.Errorf("wrong password answered %+v (%v), want result [6]", rep, err)
	}
}

// TestRemoteScript runs openwrt/examples/vpnpass-remote.sh from the LAN host
// exactly as README shows it (with curl trusting the router's certificate).
func TestRemoteScript(t *testing.T) {
	l, r := openWrt(t)
	w := r.startUhttpd(l)
	script := filepath.Join(repoRoot(t), "openwrt/examples/vpnpass-remote.sh")
	ca := filepath.Join(t.TempDir(), "router.pem")
	writeFile(t, filepath.Dir(ca), filepath.Base(ca), w.certPE, 0o644)
	run := func(args ...string) ([]byte, error) {
		cmd := l.LAN.Command("sh", append([]string{script, w.url, "isp"}, args...)...)
		cmd.Env = append(cmd.Environ(), "CURL_OPTS=--cacert "+ca)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := l.LAN.RunCmd(cmd)
		return out.Bytes(), err
	}
	for _, c := range []struct {
		args   []string
		key    string
		wantOK bool
	}{
		{[]string{ispPassword, "status"}, "protocols", true},
		{[]string{ispPassword, "set", `{"protocol":"ipsec","mode":"allow"}`}, "changed", true},
		{[]string{ispPassword, "set", `{"protocol":"bogus","mode":"allow"}`}, "", false},
		{[]string{ispPassword, "metrics"}, "", false},
		{[]string{"wrong", "status"}, "", false},
	} {
		out, err := run(c.args...)
		if (err == nil) != c.wantOK {
			t.Errorf("vpnpass-remote.sh %v: %v, want success %v\n%s", c.args, err, c.wantOK, out)
			continue
		}
		if !c.wantOK {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil || v[c.key] == nil {
			t.Errorf("vpnpass-remote.sh %v printed %s, want the result object with %q", c.args, out, c.key)
		}
	}
}
