package e2e

// Measurements of the running agent in a lab router, against the budgets of
// docs/design.md#budgets (idle RSS <= 12 MiB; >= 10k events/s appended; the last 100
// events read in <= 1 ms). They are benchmarks, never assertions: run them
// with test/bench-agent.sh, which prints the table. Each measures the
// release build (static, stripped), except where the flood hook is needed.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/test/lab"
)

// procMem returns VmRSS and VmHWM (peak RSS) of pid in KiB.
func procMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rss, hwm, sc.Err()
}

// procKB returns one "<key>: N kB" line of /proc/<pid>/status, 0 when absent.
func procKB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkAgentIdleRSS: resident memory of the idle agent (fw4 router,
// ipsec allowed, no API calls after the first status), 5 s after its start,
// without a GOMEMLIMIT and with the environment the init script ships
// (openwrt/files/etc/init.d/vpnpass: GOMEMLIMIT=10MiB GOGC=50).
func BenchmarkAgentIdleRSS(b *testing.B) {
	bin := releaseBinary(b, false)
	smaps := os.Getenv("VPNPASS_BENCH_SMAPS")
	if smaps != "" { // the test hooks' build writes runtime/metrics too
		bin = releaseBinary(b, true)
	}
	l := lab.New(b, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4}})
	for _, c := range []struct {
		name string
		env  []string
	}{{"no-GOMEMLIMIT", nil}, {"init-script", initScriptEnv(b)}} {
		b.Run(c.name, func(b *testing.B) {
			a := newAgent(b, l)
			a.bin, a.env = bin, c.env
			if smaps != "" {
				a.env = append(c.env[:len(c.env):len(c.env)], "VPNPASS_TEST_MEM_FILE="+filepath.Join(smaps, c.name+".metrics"))
			}
			a.writeConfig(b, "default", "default", "allow")
			a.start(b)
			time.Sleep(5 * time.Second)
			rss, hwm, err := procMem(a.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			// Where it is: the heap and stacks (anon) or the binary's
			// touched pages (file, shared with every CLI run of it).
			anon, file := procKB(a.cmd.Process.Pid, "RssAnon"), procKB(a.cmd.Process.Pid, "RssFile")
			keepSmaps(b, a.cmd.Process.Pid, c.name)
			a.stop(b)
			b.ReportMetric(float64(rss)/1024, "RSS-MiB")
			b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(anon)/1024, "anon-MiB")
			b.ReportMetric(float64(file)/1024, "file-MiB")
		})
	}
}

// keepSmaps copies /proc/<pid>/smaps and status into $VPNPASS_BENCH_SMAPS
// (a directory) when it is set: where the idle RSS goes, per mapping. Then
// SIGUSR2 makes the test hooks' build write its runtime/metrics beside them
// (agent/testhooks_mem.go).
func keepSmaps(b *testing.B, pid int, name string) {
	dir := os.Getenv("VPNPASS_BENCH_SMAPS")
	if dir == "" {
		return
	}
	defer func() {
		_ = syscall.Kill(pid, syscall.SIGUSR2)
		time.Sleep(500 * time.Millisecond)
	}()
	for _, f := range []string{"smaps", "status"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"."+f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// newestSeq returns the newest event's seq; the API flushes first, so every
// event appended before the call is counted.
func newestSeq(b testing.TB, c *api.Client) uint64 {
	var res struct {
		Events []apiEvent `json:"events"`
	}
	if err := c.Call(context.Background(), "history", historyParams{Limit: 1}, &res); err != nil || len(res.Events) == 0 {
		b.Fatalf("history: %v (%d events)", err, len(res.Events))
	}
	return res.Events[0].Seq
}

// BenchmarkAgentHistoryAppend: events/s the agent commits when the test
// hook appends as fast as the store takes them ("max") and when it asks for
// 10k/s, under the default 512 KiB cap (pruning and compaction run). Also
// the agent's RSS under that load and the history file's size at the end.
func BenchmarkAgentHistoryAppend(b *testing.B) {
	bin := releaseBinary(b, true)
	l := lab.New(b, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FirewallNone}})
	for _, c := range []struct {
		name string
		rate int
	}{{"max", 1_000_000}, {"10k", 10_000}} {
		b.Run(c.name, func(b *testing.B) {
			a := newAgent(b, l)
			a.bin, a.env = bin, []string{"VPNPASS_TEST_EVENT_RATE=" + strconv.Itoa(c.rate)}
			a.writeConfig(b)
			a.start(b)
			cl, err := api.Dial(a.socket)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			time.Sleep(time.Second) // past the start
			s0, t0 := newestSeq(b, cl), time.Now()
			time.Sleep(3 * time.Second)
			s1, t1 := newestSeq(b, cl), time.Now()
			rss, hwm, err := procMem(a.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			a.stop(b)
			fi, err := os.Stat(filepath.Join(a.dir, "history.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(s1-s0)/t1.Sub(t0).Seconds(), "events/s")
			b.ReportMetric(float64(rss)/1024, "RSS-MiB")
			b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(fi.Size())/1024, "file-KiB")
		})
	}
}

// BenchmarkAgentHistoryLast100: reading the newest 100 events of a full
// history (512 KiB cap, filled by the flood hook, then served by the
// release build at rest): "api" is one request/response on an open
// connection (what LuCI's rpcd or a script pays per call, without process
// start), "cli" is `vpnpass history --limit 100 --json` as a process.
func BenchmarkAgentHistoryLast100(b *testing.B) {
	l := lab.New(b, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FirewallNone}})
	a := newAgent(b, l)
	a.bin, a.env = releaseBinary(b, true), []string{"VPNPASS_TEST_EVENT_RATE=1000000"}
	a.writeConfig(b)
	a.start(b)
	time.Sleep(2 * time.Second) // several times what the cap holds
	a.stop(b)
	a.bin, a.env = releaseBinary(b, false), nil
	a.start(b)
	defer a.stop(b)

	b.Run("api", func(b *testing.B) {
		cl, err := api.Dial(a.socket)
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		for i := 0; i < b.N; i++ {
			var res struct {
				Events []json.RawMessage `json:"events"`
			}
			if err := cl.Call(context.Background(), "history", historyParams{Limit: 100}, &res); err != nil || len(res.Events) != 100 {
				b.Fatalf("history: %v, %d events", err, len(res.Events))
			}
		}
	})
	b.Run("cli", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, err := a.cli("history", "--limit", "100", "--json"); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}
