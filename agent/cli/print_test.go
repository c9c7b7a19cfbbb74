package cli

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

var updatePrint = flag.Bool("update-print", false, "rewrite testdata/print/*.txt")

const printDecider = `{"table":"fw4","chain":"forward_lan","handle":42,"comment":"!fw4: allow LAN","backend":"nftables"}`

var printStatusJSON = `{"backend":{"kind":"fw4","also":["iptables-legacy","docker"]},
 "helpers":{"pptp":{"state":"missing","package":"kmod-nf-nathelper-extra","assigned_by":["fw4","vpnpass"]},"gre":{"state":"builtin"}},
 "protocols":{
  "pptp":{"mode":"allow","verdict":"accept","drift":true,"elements":[{"match":"tcp/1723","family":"ipv4","verdict":"accept","decided_by":` + printDecider + `,"replies":"drop"}]},
  "ipsec":{"mode":"default","verdict":"drop","elements":[{"match":"udp/500","family":"ipv4","verdict":"drop","decided_by":{"policy":"drop","table":"fw4","chain":"forward"}}]},
  "l2tp":{"mode":"block","verdict":"accept"}},
 "masquerade":true,
 "wan":{"wan_device":"eth1","addresses":["203.0.113.7","2001:db8::7"],"gateway":"203.0.113.1","class":"public","code":"wan-public","message":"The WAN address is public."}}`

var printNatJSON = `{"wan_device":"","addresses":["100.64.0.9"],"gateway":"100.64.0.1","class":"cgnat","code":"nat-cgnat",
 "confirmed_by":["stun","upnp"],"public_address":"198.51.100.4","upstream":{"model":"FRITZ!Box 7590","address":"192.168.178.1"},
 "message":"Carrier-grade NAT in front of this router.","advice":"Ask the ISP for a public address."}`

var printSetJSON = `{"changed":true,"plan":[{"action":"add","backend":"nftables","family":"inet","table":"vpnpass","chain":"forward","rule":"tcp dport 1723 accept"},
 {"action":"delete","backend":"iptables","family":"ip","table":"filter","chain":"FORWARD","rule":"-p gre -j DROP"}],
 "status":{"protocols":{"pptp":{"mode":"allow","verdict":"accept"}}}}`

var printExplainJSON = `{"verdict":"drop","decided_by":` + printDecider + `,"path":[
 {"effect":"jump","backend":"nftables","table":"fw4","chain":"forward","handle":7,"rule":"iifname \"br-lan\" jump forward_lan","comment":"lan"},
 {"effect":"drop","backend":"nftables","table":"fw4","chain":"forward_lan"},
 {"effect":"continue","backend":"iptables","table":"filter","chain":"FORWARD","rule":"-j ACCEPT"}]}`

var printDoctorJSON = `{"source":"snapshot","findings":[
 {"code":"gre-blocked","severity":"error","protocol":"pptp","host":"192.168.1.20","host_name":"laptop","peer":"198.51.100.9",
  "last_seen":"2026-01-02T03:04:05Z","message":"GRE does not pass.","advice":"Enable pptp.",
  "params":{"answered":["tcp/1723","gre"],"since":"2026-01-02T03:00:00Z","packets_out":12,"packets_in":3,"offloaded":true,"live":true}},
 {"code":"vpn-ok","severity":"info","protocol":"ipsec","host":"192.168.1.21","peer":"198.51.100.10","last_seen":"2026-01-02T03:04:06Z","message":"Works."}],
 "sessions":[{"protocol":"l2tp","host":"192.168.1.22","peer":"198.51.100.11","phase":"starting","first_seen":"2026-01-02T03:01:00Z"},
 {"protocol":"pptp","host":"192.168.1.20","peer":"198.51.100.9","phase":"up","first_seen":"2026-01-02T03:01:00Z"}]}`

var printHistoryJSON = `[{"seq":1,"time":"2026-01-02T03:04:05Z","kind":"mode-change","severity":"info","protocol":"pptp","host":"192.168.1.20","peer":"198.51.100.9","message":"pptp set to allow"},
 {"seq":2,"time":"2026-01-02T03:04:06Z","kind":"a-very-long-event-kind-name-over-26","severity":"warning","message":"über länge"}]`

// TestPrintGolden pins the human output of every print function (the
// golden files were written by the fmt-based code these replaced).
func TestPrintGolden(t *testing.T) {
	t.Setenv("TZ", "UTC")
	time.Local = time.UTC
	cases := []struct {
		name string
		in   string
		run  func(w io.Writer, raw []byte) error
	}{
		{"status", printStatusJSON, func(w io.Writer, raw []byte) error {
			var v api.Status
			must(t, json.Unmarshal(raw, &v))
			return printStatus(w, &v)
		}},
		{"nat", printNatJSON, func(w io.Writer, raw []byte) error {
			var v wan.Nat
			must(t, json.Unmarshal(raw, &v))
			return printNat(w, &v)
		}},
		{"set", printSetJSON, func(w io.Writer, raw []byte) error {
			var v api.SetResult
			must(t, json.Unmarshal(raw, &v))
			for _, dry := range []bool{true, false} {
				must(t, printSet(w, vpn.PPTP, netfilter.ModeAllow, dry, v))
				must(t, printSet(w, vpn.PPTP, netfilter.ModeAllow, dry, api.SetResult{}))
			}
			return nil
		}},
		{"explain", printExplainJSON, func(w io.Writer, raw []byte) error {
			var v netfilter.Explanation
			must(t, json.Unmarshal(raw, &v))
			must(t, printExplain(w, &v))
			v.DecidedBy = &netfilter.Decider{Policy: "accept", Table: "filter", Chain: "FORWARD"}
			return printExplain(w, &v)
		}},
		{"doctor", printDoctorJSON, func(w io.Writer, raw []byte) error {
			var v api.DoctorResult
			must(t, json.Unmarshal(raw, &v))
			must(t, printDoctor(w, &v))
			return printDoctor(w, &api.DoctorResult{})
		}},
		{"history", printHistoryJSON, func(w io.Writer, raw []byte) error {
			var v []history.Event
			must(t, json.Unmarshal(raw, &v))
			return printHistory(w, v)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			if err := c.run(&b, []byte(c.in)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "print", c.name+".txt")
			if *updatePrint {
				must(t, os.MkdirAll(filepath.Dir(path), 0o755))
				must(t, os.WriteFile(path, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(path)
			must(t, err)
			if b.String() != string(want) {
				t.Errorf("%s output changed:\n%s\nwant:\n%s", c.name, b.String(), want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
