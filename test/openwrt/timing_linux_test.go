package openwrt

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// timingRuns is how many calls of each method are timed.
const timingRuns = 20

// TestTimings prints the wall time of ubus calls through the real stack:
// `ubus call` in the router (process start included, as a shell script on
// the router pays it) and HTTPS /ubus from the LAN host (one kept-alive
// connection, as LuCI's browser has). Printed, never asserted.
func TestTimings(t *testing.T) {
	_, r := openWrt(t)
	w := r.StartUhttpd()
	sid := w.Login(t, "isp", ispPassword)
	modes := []string{"allow", "default"}
	methods := []struct {
		name string
		args func(i int) string
	}{
		{"status", func(int) string { return `{}` }},
		{"set", func(i int) string { return fmt.Sprintf(`{"protocol":"ipsec","mode":%q}`, modes[i%2]) }},
		{"doctor", func(int) string { return `{}` }},
		{"history", func(int) string { return `{"limit":50}` }},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s %-10s %9s %9s %9s  %s\n", "method", "path", "median", "p90", "max", "failed")
	for _, m := range methods {
		var cli, web []time.Duration
		cliFail, webFail := 0, 0
		for i := 0; i < timingRuns; i++ {
			v, took, err := r.ubusCall(m.name, m.args(i))
			cli = append(cli, took)
			if err != nil || v["error"] != nil {
				cliFail++
			}
			start := time.Now()
			rep, err := w.Call(sid, "vpnpass", m.name, m.args(i))
			web = append(web, time.Since(start))
			if err == nil {
				var obj map[string]any
				if obj, err = rep.Object(); err == nil && obj["error"] != nil {
					err = fmt.Errorf("%v", obj["error"])
				}
			}
			if err != nil {
				webFail++
			}
		}
		row(&table, m.name, "ubus call", cli, cliFail)
		row(&table, m.name, "https", web, webFail)
	}
	t.Logf("wall time per call, %d calls each (fw4 lab router, real ubusd/rpcd -t 30/uhttpd):\n%s", timingRuns, table.String())
}

func row(b *strings.Builder, method, path string, d []time.Duration, failed int) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	ms := func(x time.Duration) string { return fmt.Sprintf("%.1f ms", float64(x.Microseconds())/1000) }
	fmt.Fprintf(b, "%-8s %-10s %9s %9s %9s  %d/%d\n", method, path, ms(d[len(d)/2]), ms(d[len(d)*9/10]), ms(d[len(d)-1]), failed, len(d))
}
