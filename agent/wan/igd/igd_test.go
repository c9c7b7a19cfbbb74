package igd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/internal/lines"
)

func TestParseXML(t *testing.T) {
	tests := []struct {
		name, doc, path, want string
		bad                   bool
	}{
		{"nested", `<a><b>x</b><c><d> y </d></c></a>`, "a/c/d", "y", false},
		{"prefixes dropped", `<s:Env xmlns:s="u"><s:Body><u:R><V>1</V></u:R></s:Body></s:Env>`, "Env/Body/R/V", "1", false},
		{"attributes with > in quotes", `<a x="1>2" y='/>'><b>ok</b></a>`, "a/b", "ok", false},
		{"self closing", `<a><b/><c x="1"/><d>z</d></a>`, "a/d", "z", false},
		{"entities", `<a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;&bogus;&#0;</a>`, "a", `<&>"'AB&bogus;&#0;`, false},
		{"cdata", `<a><![CDATA[<raw>&amp;]]></a>`, "a", "<raw>&amp;", false},
		{"comment and pi", `<?xml version="1.0"?><!-- <x> --><!DOCTYPE a><a>t</a>`, "a", "t", false},
		{"mismatched end", `<a><b></a></b>`, "", "", true},
		{"unclosed", `<a><b>`, "", "", true},
		{"stray end", `</a>`, "", "", true},
		{"unterminated tag", `<a x="1`, "", "", true},
		{"unterminated cdata", `<a><![CDATA[x</a>`, "", "", true},
		{"empty name", `<>x</>`, "", "", true},
		{"too deep", strings.Repeat("<a>", maxDepth+2) + strings.Repeat("</a>", maxDepth+2), "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parseXML(tc.doc)
			if tc.bad {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := doc
			for _, p := range strings.Split(tc.path, "/") {
				n = n.child(p)
			}
			if n == nil || strings.TrimSpace(n.text.String()) != tc.want {
				t.Fatalf("%s = %v, want %q", tc.path, n, tc.want)
			}
		})
	}
}

func FuzzParseXML(f *testing.F) {
	for _, s := range []string{`<a><b>x</b></a>`, `<a x="1>2"/>`, `<![CDATA[`, `&#x10ffff;`, `<a><b></a>`} {
		f.Add(s)
	}
	for _, name := range []string{"pppoe-router-desc.xml", "miniupnpd-2.3.1-rootDesc.xml"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := parseXML(s)
		if err == nil && doc == nil {
			t.Fatal("nil document without error")
		}
		_, _ = parseDesc(s, httpURL{host: netip.MustParseAddrPort("192.168.0.1:80"), path: "/"})
	})
}

func TestParseDescription(t *testing.T) {
	b, err := os.ReadFile("testdata/pppoe-router-desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := parseURL("http://192.168.0.1:5000/rootDesc.xml")
	d, err := parseDesc(string(b), loc)
	if err != nil {
		t.Fatal(err)
	}
	want := Device{
		DeviceType:   "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
		FriendlyName: "Home Gateway & Wi-Fi",
		Manufacturer: "Example Networks",
		ModelName:    "HG-8045Q",
		ModelNumber:  "1.0",
		ServiceType:  "urn:schemas-upnp-org:service:WANPPPConnection:1",
		ControlURL:   "http://192.168.0.1:2869/upnp/control/WANPPPConn1",
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
	if _, err := parseDesc(`<root><device><modelName>x</modelName></device></root>`, loc); err == nil {
		t.Error("a description without a WAN connection service gave no error")
	}
	if _, err := parseDesc(`<root></root>`, loc); err == nil {
		t.Error("a description without a device gave no error")
	}
}

// The description Debian's miniupnpd 2.3.1 served in the lab (IGDv2; the
// model fields come from the test's config).
func TestParseMiniupnpdDescription(t *testing.T) {
	b, err := os.ReadFile("testdata/miniupnpd-2.3.1-rootDesc.xml")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := parseURL("http://192.168.0.1:5000/rootDesc.xml")
	d, err := parseDesc(string(b), loc)
	if err != nil {
		t.Fatal(err)
	}
	if d.ModelName != "LabBox 9000" || d.FriendlyName != "vpnpass lab ISP router" || d.Manufacturer != "vpnpass lab" ||
		d.ServiceType != "urn:schemas-upnp-org:service:WANIPConnection:2" || d.ControlURL != "http://192.168.0.1:5000/ctl/IPConn" {
		t.Fatalf("got %+v", d)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://192.168.0.1:5000/rootDesc.xml", "http://192.168.0.1:5000/rootDesc.xml"},
		{"http://192.168.0.1", "http://192.168.0.1:80/"},
		{"http://192.168.0.1?x=1", "http://192.168.0.1:80/?x=1"},
		{"http://[fe80::1]:49000/d.xml#frag", "http://[fe80::1]:49000/d.xml"},
		{"https://192.168.0.1/", ""},
		{"http://router.lan/desc.xml", ""},
		{"http://192.168.0.1:0/", ""},
		{"http://192.168.0.1:99999/", ""},
		{"http://192.168.0.1/a b", ""},
		{"http://192.168.0.1/a\r\nX: y", ""},
	}
	for _, tc := range tests {
		u, err := parseURL(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %v, want an error", tc.in, u)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("%q: got %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	base, _ := parseURL("http://192.168.0.1:5000/dev/rootDesc.xml?v=1")
	for ref, want := range map[string]string{
		"/ctl/IPConn":                    "http://192.168.0.1:5000/ctl/IPConn",
		"ctl/IPConn":                     "http://192.168.0.1:5000/dev/ctl/IPConn",
		"http://192.168.0.1:6000/c":      "http://192.168.0.1:6000/c",
		"ftp://192.168.0.1/c":            "",
		"http://192.168.0.1:6000/c d":    "",
		"http://example.invalid:6000/cd": "",
	} {
		u, err := base.resolve(ref)
		if (want == "") != (err != nil) || (err == nil && u.String() != want) {
			t.Errorf("resolve %q: got %v, %v; want %q", ref, u, err, want)
		}
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, raw, body string
		status          int
		bad             bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello extra", "hello", 200, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 200, false},
		{"until eof", "HTTP/1.0 500 Internal\nServer: x\n\nfault body", "fault body", 500, false},
		{"not http", "SSH-2.0-OpenSSH\r\n", "", 0, true},
		{"bad status", "HTTP/1.1 abc OK\r\n\r\n", "", 0, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello", "", 0, true},
		{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", "", 0, true},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "", 0, true},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "", 0, true},
		{"chunk without crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd", "", 0, true},
		{"header without colon", "HTTP/1.1 200 OK\r\nbogus\r\n\r\n", "", 0, true},
		{"eof in headers", "HTTP/1.1 200 OK\r\nA: b", "", 0, true},
		{"long line", "HTTP/1.1 200 OK\r\nA: " + strings.Repeat("x", maxHeaderLine) + "\r\n\r\n", "", 0, true},
		{"too many headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("A: b\r\n", maxHeaders+1) + "\r\n", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			err := readResponse(lines.NewReader(strings.NewReader(tc.raw), 4096), &r)
			if tc.bad {
				if err == nil {
					t.Fatalf("got %+v, want an error", r)
				}
				return
			}
			if err != nil || r.status != tc.status || r.body != tc.body {
				t.Fatalf("got %+v, %v", r, err)
			}
		})
	}
}

func TestParseExternalIP(t *testing.T) {
	ok := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">` +
		`<NewExternalIPAddress>198.51.100.2</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>`
	fault := `<s:Envelope xmlns:s="x"><s:Body><s:Fault><faultcode>s:Client</faultcode><detail>` +
		`<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>501</errorCode><errorDescription>Action Failed</errorDescription></UPnPError>` +
		`</detail></s:Fault></s:Body></s:Envelope>`
	tests := []struct {
		name   string
		resp   response
		want   string
		errHas string
	}{
		{"ok", response{status: 200, body: ok}, "198.51.100.2", ""},
		{"fault", response{status: 500, body: fault}, "", "UPnP error 501 Action Failed"},
		{"zero address", response{status: 200, body: strings.Replace(ok, "198.51.100.2", "0.0.0.0", 1)}, "", "0.0.0.0"},
		{"empty address", response{status: 200, body: strings.Replace(ok, "198.51.100.2", "", 1)}, "", "not an IPv4"},
		{"ipv6", response{status: 200, body: strings.Replace(ok, "198.51.100.2", "2001:db8::1", 1)}, "", "not an IPv4"},
		{"missing", response{status: 200, body: `<a></a>`}, "", "no NewExternalIPAddress"},
		{"not xml", response{status: 404, body: `<html>`}, "", "HTTP 404"},
		{"plain error", response{status: 403, body: ``}, "", "HTTP status 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseExternalIP(tc.resp)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("got %v, %v; want error with %q", a, err, tc.errHas)
				}
				return
			}
			if err != nil || a.String() != tc.want {
				t.Fatalf("got %v, %v", a, err)
			}
		})
	}
}

func TestParseAnnouncement(t *testing.T) {
	a, ok := parseAnnouncement([]byte("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
		"LOCATION: http://192.168.0.1:5000/rootDesc.xml\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n\r\n"))
	if !ok || a.Location != "http://192.168.0.1:5000/rootDesc.xml" || !strings.Contains(a.Server, "MiniUPnPd") {
		t.Fatalf("got %+v, %v", a, ok)
	}
	for _, bad := range []string{"", "NOTIFY * HTTP/1.1\r\nLOCATION: http://x/\r\n", "HTTP/1.1 200 OK\nST: x\n", "HTTP/1.1 404 Not Found\r\nLOCATION: http://192.168.0.1/\r\n"} {
		if a, ok := parseAnnouncement([]byte(bad)); ok {
			t.Errorf("%q accepted as %+v", bad, a)
		}
	}
}

// httpServer answers each connection on loopback with handle's output.
func httpServer(t *testing.T, handle func(req string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				r := bufio.NewReader(c)
				var req strings.Builder
				n := 0
				for {
					line, err := r.ReadString('\n')
					req.WriteString(line)
					if err != nil {
						return
					}
					if cl, ok := strings.CutPrefix(line, "Content-Length: "); ok {
						_, _ = fmt.Sscan(strings.TrimSpace(cl), &n)
					}
					if line == "\r\n" {
						break
					}
				}
				body := make([]byte, n)
				_, _ = io.ReadFull(r, body)
				req.Write(body)
				_, _ = io.WriteString(c, handle(req.String()))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestDescribeAndExternalIP(t *testing.T) {
	desc, err := os.ReadFile("testdata/pppoe-router-desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	addr = httpServer(t, func(req string) string {
		switch {
		case strings.HasPrefix(req, "GET /rootDesc.xml HTTP/1.1\r\n"):
			// Point the control URL back at this test server.
			d := strings.Replace(string(desc), "http://192.168.0.1:2869/", "http://"+addr+"/", 1)
			return "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " + strconv.Itoa(len(d)) + "\r\n\r\n" + d
		case strings.HasPrefix(req, "POST /upnp/control/WANPPPConn1 HTTP/1.1\r\n") &&
			strings.Contains(req, "SOAPAction: \"urn:schemas-upnp-org:service:WANPPPConnection:1#GetExternalIPAddress\"") &&
			strings.Contains(req, "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANPPPConnection:1\">"):
			a, b := "<r><NewExternalIPAddress>203.0.", "113.7</NewExternalIPAddress></r>"
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", len(a), a, len(b), b)
		}
		return "HTTP/1.1 404 Not Found\r\n\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	from := netip.MustParseAddrPort(addr).Addr()
	d, err := Describe(ctx, "http://"+addr+"/rootDesc.xml", from)
	if err != nil {
		t.Fatal(err)
	}
	if d.Model() != "HG-8045Q" {
		t.Errorf("model %q", d.Model())
	}
	ext, err := ExternalIP(ctx, &d)
	if err != nil || ext.String() != "203.0.113.7" {
		t.Fatalf("external %v, %v", ext, err)
	}
	if _, err := Describe(ctx, "http://"+addr+"/rootDesc.xml", netip.MustParseAddr("192.168.0.1")); err == nil {
		t.Error("a description URL on another host than the responder was fetched")
	}
	if _, err := Describe(ctx, "http://"+addr+"/missing.xml", from); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing description: %v", err)
	}
	d.ControlURL = "http://192.168.0.99:1/ctl"
	if _, err := ExternalIP(ctx, &d); err == nil {
		t.Error("a control URL on another host was called")
	}
}

// A server that accepts and never answers must not hang the probe: the
// context's deadline ends it (the connection is held open until the test ends).
func TestDescribeSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			<-release
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err = Describe(ctx, "http://"+ln.Addr().String()+"/d.xml", netip.Addr{}); err == nil {
		t.Fatal("no error from a server that never answers")
	}
}

func TestChoose(t *testing.T) {
	gw := netip.MustParseAddr("192.168.0.1")
	other := Announcement{From: netip.MustParseAddr("192.168.0.7"), Location: "a"}
	mine := Announcement{From: gw, Location: "b"}
	if a := choose([]Announcement{other, mine}, gw); a == nil || a.Location != mine.Location {
		t.Errorf("chose %+v, want the gateway's", a)
	}
	if a := choose([]Announcement{other}, gw); a == nil || a.Location != other.Location {
		t.Errorf("chose %+v, want the only one", a)
	}
	if a := choose(nil, gw); a != nil {
		t.Error("chose from nothing")
	}
}

// parseDesc is parseDescription returning the device, as Describe sees it.
func parseDesc(body string, loc httpURL) (Device, error) {
	var d Device
	err := parseDescription(&d, body, loc)
	return d, err
}
