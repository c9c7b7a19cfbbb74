package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/swan"
)

// The fleet view's tools (build/deps.sh installs them).
const (
	nodeExporter = "prometheus-node-exporter"
	prometheus   = "prometheus"
	promtool     = "promtool"
)

// topCodesQuery answers "which finding codes fired most in the last hour"
// (docs/metrics.md).
const topCodesQuery = `topk(5, sum by (code) (increase(vpnpass_findings_total[1h])))`

// TestFleetPrometheus: a real strongSwan client in the LAN fails because
// something beyond the router drops UDP 4500 (NAT-T). The agent writes its
// textfile in the router; Debian's node-exporter (textfile collector) serves
// it on the router's LAN address; Debian's Prometheus in the LAN scrapes it
// every second. The test asks Prometheus's HTTP API for the natt-blocked
// counter and for the top codes of the last hour, and promtool accepts the
// textfile. Nothing the agent emits names the LAN host (address or MAC).
func TestFleetPrometheus(t *testing.T) {
	t.Parallel()
	requireTools(t, nodeExporter, prometheus, promtool, "curl")
	l := lab.New(t, lab.Config{})
	nftIn(t, l.Inet, "add table inet upstream; add chain inet upstream in { type filter hook input priority 0; udp dport 4500 drop; }")
	a := newAgent(t, l)
	promDir := filepath.Join(a.dir, "prometheus")
	textfile := filepath.Join(promDir, "vpnpass.prom")
	a.options = []string{"list public_range '198.51.100.0/24'",
		"option metrics_textfile '" + textfile + "'", "option metrics_interval '5'"}
	a.writeConfig(t)
	a.start(t)
	waitFile(t, textfile, 10*time.Second)
	startNodeExporter(t, l, promDir)
	prom := startPrometheus(t, l, a.dir)

	swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, l.LAN, swan.Config{Role: swan.Initiator})
	if err := cli.Initiate(30 * time.Second); err == nil {
		t.Fatal("IKE succeeded although UDP 4500 is dropped beyond the router")
	}
	series := `vpnpass_findings_total{code="natt-blocked",protocol="ipsec"}`
	res := prom.waitQuery(t, series+" > 0", judgedWithin+10*time.Second)
	t.Logf("Prometheus: %s = %s", series, res[0].Value[1])
	top := prom.query(t, topCodesQuery)
	if len(top) == 0 || top[0].Metric["code"] != "natt-blocked" {
		t.Errorf("%s: %+v, want natt-blocked first", topCodesQuery, top)
	}
	for _, r := range top {
		t.Logf("top codes: %s %v", r.Metric["code"], r.Value[1])
	}
	checkMetricsFile(t, textfile)
	logScrape(t, l)
	out, err := a.cli("metrics")
	if err != nil || !strings.Contains(string(out), series+" 1") {
		t.Errorf("vpnpass metrics: %v, want %s 1 in:\n%s", err, series, out)
	}
	// Privacy by default: the log (every event's logfmt line), the textfile
	// and the metrics answer carry no LAN address nor the LAN host's MAC.
	private := append(lanMACs(t, l), lab.LANHost.String())
	text, _ := os.ReadFile(textfile)
	for _, p := range private {
		for what, s := range map[string]string{"agent log": a.log.String(), "textfile": string(text), "metrics": string(out)} {
			if strings.Contains(s, p) {
				t.Errorf("%s names the LAN host (%s)", what, p)
			}
		}
	}
	if !strings.Contains(a.log.String(), "msg=event kind=vpn.finding severity=error protocol=ipsec code=natt-blocked") {
		t.Errorf("no logfmt line for the finding in the agent's log")
	}
	a.stop(t)
	if _, err := os.Stat(textfile); !os.IsNotExist(err) {
		t.Errorf("the textfile outlives the agent: %v", err)
	}
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	lab.Require(t)
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing: run build/deps.sh", tool)
			}
			t.Skipf("%s not installed (build/deps.sh)", tool)
		}
	}
}

// startNodeExporter runs node-exporter in the router with only its textfile
// collector, on the router's LAN address.
func startNodeExporter(t *testing.T, l *lab.Lab, dir string) {
	t.Helper()
	log := &lab.Buffer{}
	cmd := l.Router.Command(nodeExporter, "--web.listen-address="+lab.RouterLAN.String()+":9100",
		"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node-exporter:\n%s", log.String())
		}
	})
}

// promServer is a Prometheus in the LAN scraping the router's node-exporter.
type promServer struct {
	l   *lab.Lab
	url string
}

const promConfig = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: router
    static_configs:
      - targets: ['%s:9100']
`

func startPrometheus(t *testing.T, l *lab.Lab, dir string) *promServer {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(promConfig, lab.RouterLAN)), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := lab.LANHost.String() + ":9090"
	log := &lab.Buffer{}
	cmd := l.LAN.Command(prometheus, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+listen)
	cmd.Stdout, cmd.Stderr = log, log
	if err := l.LAN.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus:\n%s", log.String())
		}
	})
	p := &promServer{l: l, url: "http://" + listen}
	// Ready once it has scraped the agent's build info through node-exporter.
	p.waitQuery(t, "vpnpass_build_info", 30*time.Second)
	return p
}

type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query through the HTTP API (curl in the LAN).
func (p *promServer) query(t *testing.T, q string) []promResult {
	t.Helper()
	out, err := p.l.LAN.Run("curl", "-sf", p.url+"/api/v1/query?query="+url.QueryEscape(q))
	if err != nil {
		return nil
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v\n%s", q, err, out)
	}
	return r.Data.Result
}

func (p *promServer) waitQuery(t *testing.T, q string, within time.Duration) []promResult {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(time.Second) {
		if res := p.query(t, q); len(res) > 0 {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no result for %s within %v", q, within)
		}
	}
}

// logScrape shows what node-exporter serves of ours (for the notes).
func logScrape(t *testing.T, l *lab.Lab) {
	out, err := l.LAN.Run("curl", "-sf", "http://"+lab.RouterLAN.String()+":9100/metrics")
	if err != nil {
		t.Errorf("scrape node-exporter: %v", err)
		return
	}
	var b strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "vpnpass_") && !strings.HasSuffix(line, " 0") || strings.HasPrefix(line, "node_textfile") {
			b.WriteString("  " + line + "\n")
		}
	}
	t.Logf("scrape of %s:9100/metrics (vpnpass_ series not 0):\n%s", lab.RouterLAN, b.String())
}

// checkMetricsFile runs promtool's check (and lint) on the textfile.
func checkMetricsFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics %s: %v\n%s", path, err, out)
	}
}

// lanMACs are the LAN host's hardware addresses.
func lanMACs(t *testing.T, l *lab.Lab) []string {
	t.Helper()
	var macs []string
	err := l.LAN.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			if len(i.HardwareAddr) > 0 {
				macs = append(macs, i.HardwareAddr.String())
			}
		}
		return err
	})
	if err != nil || len(macs) == 0 {
		t.Fatalf("LAN host MACs: %v %v", macs, err)
	}
	return macs
}
