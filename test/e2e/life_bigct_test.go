package e2e

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// initScriptEnv is the environment the init script gives the agent, the
// words of its `procd_set_param env` line (read from the script itself: one
// definition).
func initScriptEnv(t testing.TB) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "openwrt", "files", "etc", "init.d", "vpnpass"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if _, v, ok := strings.Cut(line, "procd_set_param env "); ok {
			return strings.Fields(v)
		}
	}
	t.Fatal("the init script sets no environment")
	return nil
}

// fillConntrack adds entries to the router's conntrack table over
// ctnetlink until it holds n of ours: UDP from 10.78.0.0/16 (no LAN host,
// no session) to the server, every 64th to UDP 4500 (the VPN footprint the
// agent keeps), the rest to port 9. Ten-minute timeouts keep them for the
// test.
func fillConntrack(t testing.TB, l *lab.Lab, from, n int) {
	t.Helper()
	const workers = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < workers; w++ {
		c, err := ct.Dial(&netlink.Config{NetNS: l.Router.Fd()})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			defer c.Close()
			for i := from + w; i < n; i += workers {
				src := netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)})
				dport := uint16(9)
				if i%64 == 0 {
					dport = 4500
				}
				err := c.Create(ct.NewFlow(17, 0, src, lab.Server, uint16(1024+i>>16), dport, 600, 0))
				if err != nil && !errors.Is(err, unix.EEXIST) { // EEXIST: kept from a fill before
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("create conntrack entries: %v", firstErr)
	}
}

// bigCtRun is what one table size cost the agent.
type bigCtRun struct {
	filled       int   // entries this test created
	entries      int64 // entries in the table (with the overrun bursts')
	start, set   time.Duration
	doctor       time.Duration
	overrun      time.Duration // burst to the agent's resync, 0 = none seen
	hwmKB, rssKB int64
}

// TestLifeBigConntrack (issue 15 §3): conntrack tables of 16k and 65k
// entries (nf_conntrack_max is global here and lets a namespace hold them;
// a router raises it), the agent under the init script's environment
// (GOMEMLIMIT): its
// start, a mode change (which deletes the protocol's entries in one dump),
// a doctor, and the recovery from an event overrun (which re-reads the
// table) are timed, and its peak RSS must not grow with the table: at 65k
// entries it stays within 8 MiB of the peak with an empty table.
func TestLifeBigConntrack(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	env := initScriptEnv(t)
	var runs []bigCtRun
	have := 0
	for _, n := range []int{0, 16384, 65536} {
		fillConntrack(t, l, have, n)
		have = max(have, n)
		runs = append(runs, bigCtOnce(t, l, env, n, ""))
	}
	var lt lifeTable
	for _, r := range runs {
		lt.add(strconv.Itoa(r.filled)+" filled, "+strconv.FormatInt(r.entries, 10)+" in the table",
			"start %v, set %v, doctor %v, overrun resync %v; peak RSS %d KiB, RSS after %d KiB",
			r.start.Round(time.Millisecond), r.set.Round(time.Millisecond), r.doctor.Round(time.Millisecond),
			r.overrun.Round(time.Millisecond), r.hwmKB, r.rssKB)
	}
	lt.log(t, "big conntrack tables under the init script's "+strings.Join(env, " ")+" (issue 15 §3)")
	if grow := runs[2].hwmKB - runs[0].hwmKB; grow > 8<<10 {
		t.Errorf("peak RSS grows with the conntrack table: %d KiB empty, %d KiB at %d entries (+%d KiB)",
			runs[0].hwmKB, runs[2].hwmKB, runs[2].entries, grow)
	}
}

// bigCtOnce starts an agent (bin; "" is the test build), changes a mode,
// asks the doctor, forces an overrun, and measures each step and the
// agent's memory.
func bigCtOnce(t testing.TB, l *lab.Lab, env []string, filled int, bin string) bigCtRun {
	r := bigCtRun{filled: filled, entries: sysctlInt(t, l.Router, "net/netfilter/nf_conntrack_count")}
	a := newAgent(t, l)
	a.bin, a.env = bin, env
	a.writeConfig(t, "allow", "allow", "allow")
	t0 := time.Now()
	a.start(t)
	r.start = time.Since(t0)
	t0 = time.Now()
	for _, cmd := range []string{"block", "enable"} { // each deletes ipsec's entries: one dump
		if out, err := a.cli(cmd, "ipsec"); err != nil {
			t.Fatalf("%s ipsec: %v\n%s", cmd, err, out)
		}
	}
	r.set = time.Since(t0) / 2
	fillConntrack(t, l, 0, filled) // put back what the block deleted
	t0 = time.Now()
	if out, err := a.cli("doctor", "--json"); err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	r.doctor = time.Since(t0)
	r.overrun = forceOverrun(t, l, a)
	if err := a.ping(); err != nil {
		t.Fatalf("the agent stopped answering: %v", err)
	}
	r.rssKB, r.hwmKB, _ = procMem(a.cmd.Process.Pid)
	a.stop(t)
	return r
}

// forceOverrun stops the agent (SIGSTOP, a starved CPU), bursts VPN
// events past its socket buffer, resumes it and returns how long it took
// to record the overrun (it re-reads the whole table then); 0 if none.
func forceOverrun(t testing.TB, l *lab.Lab, a *agentRun) time.Duration {
	before := countEvents(t, a, "conntrack.overrun")
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	vpnBurst(t, l, 20000, 4)
	t0 := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for time.Since(t0) < 20*time.Second {
		if countEvents(t, a, "conntrack.overrun") > before {
			return time.Since(t0)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0
}

// BenchmarkAgentBigConntrack (issue 16): the release build's peak RSS
// (VmHWM) under the init script's environment (GOMEMLIMIT) through TestLifeBigConntrack's
// steps (start, two mode changes that each delete ipsec's entries in one
// dump, a doctor, an overrun's resync of the whole table) with an empty
// table and with 65k entries (budget: <= 16 MiB).
func BenchmarkAgentBigConntrack(b *testing.B) {
	bin := releaseBinary(b, false)
	l := lab.New(b, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	env := initScriptEnv(b)
	for _, n := range []int{0, 65536} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			fillConntrack(b, l, 0, n)
			r := bigCtOnce(b, l, env, n, bin)
			b.ReportMetric(float64(r.hwmKB)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(r.rssKB)/1024, "RSS-MiB")
			b.ReportMetric(float64(r.entries), "entries")
			b.ReportMetric(float64(r.start.Milliseconds()), "start-ms")
			b.ReportMetric(float64(r.doctor.Milliseconds()), "doctor-ms")
		})
	}
}
