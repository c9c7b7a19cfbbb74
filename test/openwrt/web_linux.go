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
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// AnonSession is rpcd's unauthenticated session id.
const AnonSession = "00000000000000000000000000000000"

// Web is uhttpd serving /ubus in the router, reached from the LAN host.
type Web struct {
	url    string // https://192.168.1.1
	certPE string // the server certificate, PEM, for curl --cacert
	client *http.Client
}

// StartUhttpd starts uhttpd as OpenWrt's init script does for LuCI (ubus
// prefix /ubus, script timeout 60 s, network timeout 30 s) on HTTP and
// HTTPS, with a fresh self-signed certificate for the router's LAN address.
// The docroot /tmp/www holds LuCI's runtime from the root's www and our
// app's htdocs, as a router with luci-app-vpnpass installed serves them.
func (r *Router) StartUhttpd() *Web {
	r.t.Helper()
	l := r.l
	certPEM, keyPEM := selfSigned(r.t, lab.RouterLAN.String())
	writeFile(r.t, r.work, "tmp/uhttpd.crt", certPEM, 0o644)
	writeFile(r.t, r.work, "tmp/uhttpd.key", keyPEM, 0o600)
	r.stageWWW()
	r.Daemon("uhttpd", "-f", "-h", "/tmp/www", "-u", "/ubus", "-t", "60", "-T", "30",
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
	w := &Web{url: "https://" + lab.RouterLAN.String(), certPE: certPEM, client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
	r.WaitFor("uhttpd", 5*time.Second, func() error {
		_, err := w.Post(`{"jsonrpc":"2.0","id":0,"method":"list","params":["session"]}`)
		return err
	})
	return w
}

// stageWWW copies the root's www (LuCI's JavaScript runtime and theme) and
// openwrt/luci-app-vpnpass/htdocs into the router's /tmp/www.
func (r *Router) stageWWW() {
	r.t.Helper()
	dst := filepath.Join(r.work, "tmp", "www")
	must(r.t, os.MkdirAll(dst, 0o755))
	for _, src := range []string{filepath.Join(r.root, "www"), filepath.Join(RepoRoot(r.t), "openwrt/luci-app-vpnpass/htdocs")} {
		if _, err := os.Stat(src); err != nil {
			continue // a root without LuCI's runtime still serves /ubus
		}
		if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
			r.t.Fatalf("copy %s to the docroot: %v: %s", src, err, out)
		}
	}
	writeFile(r.t, dst, "index.html", "vpnpass test\n", 0o644)
}

// Post sends one JSON-RPC body to /ubus and returns the answer's body.
func (w *Web) Post(body string) ([]byte, error) {
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

// Get fetches a path (e.g. "/luci-static/resources/luci.js") from uhttpd.
func (w *Web) Get(path string) ([]byte, error) {
	resp, err := w.client.Get(w.url + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: HTTP %s", path, resp.Status)
	}
	return b, err
}

// Reply is one JSON-RPC answer of uhttpd's /ubus.
type Reply struct {
	ID     json.RawMessage `json:"id"`
	Result []json.RawMessage
	Error  *struct {
		Code    int
		Message string
	}
}

// Call sends {"method":"call","params":[sid, object, method, args]}.
func (w *Web) Call(sid, object, method, args string) (Reply, error) {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"call","params":[%q,%q,%q,%s]}`, sid, object, method, args)
	b, err := w.Post(body)
	var rep Reply
	if err == nil {
		if err = json.Unmarshal(b, &rep); err != nil {
			err = fmt.Errorf("%w: %s", err, b)
		}
	}
	return rep, err
}

// Login calls session.login and returns the session id.
func (w *Web) Login(t *testing.T, user, password string) string {
	t.Helper()
	rep, err := w.Call(AnonSession, "session", "login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	if err != nil || rep.Error != nil || len(rep.Result) != 2 {
		t.Fatalf("login %s: %v %+v", user, err, rep)
	}
	var s struct {
		Session string `json:"ubus_rpc_session"`
	}
	must(t, json.Unmarshal(rep.Result[1], &s))
	return s.Session
}

// Object decodes a [0, {...}] result; it fails for a status or an error.
func (rep Reply) Object() (map[string]any, error) {
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
