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
// text through ubus too.
func TestUbusEvents(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4}})
	shipped, err := os.ReadFile(filepath.Join(RepoRoot(t), "openwrt/files/etc/config/vpnpass"))
	must(t, err)
	r := NewRouter(t, l, map[string]string{"etc/config/vpnpass": string(shipped)})
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
	v, _, err := r.ubusCall("metrics", `{}`)
	if text, _ := v["text"].(string); err != nil || !strings.Contains(text, `vpnpass_passthrough_mode{protocol="ipsec",mode="allow"} 1`) {
		t.Errorf("ubus call vpnpass metrics: %v\n%v", err, v)
	}
	r.StopAgent()
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
