package openwrt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestUbusEvents: real ubusd delivers the agent's history events as ubus
// events vpnpass.<kind> to `ubus listen` (what a USP agent or a script
// subscribes to): agent.started, passthrough.changed with its origin, and
// agent.stopped at SIGTERM; with the package's config (share_hosts off) no
// payload names a host, peer or message. The metrics method answers its
// text through ubus too, and with metrics_textfile set as docs/metrics.md
// says, the textfile is at /var/prometheus/vpnpass.prom (where
// prometheus-node-exporter-lua-textfile looks) while the agent runs.
func TestUbusEvents(t *testing.T) {
	const textfile = "/var/prometheus/vpnpass.prom"
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4}})
	shipped, err := os.ReadFile(filepath.Join(RepoRoot(t), "openwrt/files/etc/config/vpnpass"))
	must(t, err)
	cfg := strings.Replace(string(shipped), "option metrics_textfile ''", "option metrics_textfile '"+textfile+"'", 1)
	if cfg == string(shipped) {
		t.Fatal("the shipped config lost its metrics_textfile line")
	}
	r := NewRouter(t, l, map[string]string{"etc/config/vpnpass": cfg})
	r.StartUbus()
	r.Daemon("ubus", "listen", "vpnpass.*")
	heard := r.logs["ubus"]
	r.WaitFor("ubus listen", 5*time.Second, func() error {
		_, err := r.Run("", "ubus", "send", "vpnpass.test", `{}`)
		if err == nil && !strings.Contains(heard.String(), "vpnpass.test") {
			err = os.ErrNotExist
		}
		return err
	})
	r.StartAgent()
	if _, _, err := r.ubusCall("set", `{"protocol":"ipsec","mode":"allow"}`); err != nil {
		t.Fatal(err)
	}
	var prom []byte
	r.WaitFor(textfile, 5*time.Second, func() (err error) {
		prom, err = r.Run("", "cat", textfile)
		return err
	})
	if !strings.Contains(string(prom), "vpnpass_build_info{") {
		t.Errorf("%s holds:\n%s", textfile, prom)
	}
	v, _, err := r.ubusCall("metrics", `{}`)
	if text, _ := v["text"].(string); err != nil || !strings.Contains(text, `vpnpass_passthrough_mode{protocol="ipsec",mode="allow"} 1`) {
		t.Errorf("ubus call vpnpass metrics: %v\n%v", err, v)
	}
	r.StopAgent()
	if out, err := r.Run("", "ls", textfile); err == nil {
		t.Errorf("%s outlives the agent: %s", textfile, out)
	}
	want := map[string]func(map[string]any) bool{
		"vpnpass.agent.started": func(map[string]any) bool { return true },
		"vpnpass.passthrough.changed": func(p map[string]any) bool {
			return p["origin"] == "ubus" && p["to"] == "allow" && p["protocol"] == "ipsec"
		},
		"vpnpass.agent.stopped": func(map[string]any) bool { return true },
	}
	var got []string
	r.WaitFor("the events", 5*time.Second, func() error {
		got = got[:0]
		for _, line := range strings.Split(heard.String(), "\n") {
			var ev map[string]map[string]any
			if json.Unmarshal([]byte(line), &ev) != nil {
				continue
			}
			for name, p := range ev {
				if check, ok := want[name]; ok && check(p) && p["kind"] == strings.TrimPrefix(name, "vpnpass.") {
					got = append(got, name)
				}
				for _, private := range []string{"host", "peer", "message", "user"} {
					if _, ok := p[private]; ok {
						t.Errorf("%s carries %q without share_hosts: %v", name, private, p)
					}
				}
			}
		}
		if len(got) < len(want) {
			return os.ErrNotExist
		}
		return nil
	})
	t.Logf("ubus listen heard:\n%s", heard.String())
}
