package pollcost

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// initEnvEnv carries the environment the init script gives the agent
// (GOMEMLIMIT and the like, the words of its `procd_set_param env` line,
// comma-separated):
// test/bench-poll.sh reads it from openwrt/files/etc/init.d/vpnpass (one
// definition; the VMs have no copy of the script). Empty: the agent runs
// without, and the lines say so.
const initEnvEnv = "VPNPASS_POLL_AGENT_ENV"

// agentEnv is what the agent gets besides the environment: the init
// script's, and GODEBUG=gctrace=1, the runtime's own report of every GC
// cycle on stderr (no code in the product: the GC's CPU share is read from
// those lines, see gcWindow).
// VPNPASS_POLL_GODEBUG adds runtime checks to gctrace (comma-separated,
// e.g. gccheckmark=1,clobberfree=1: a GC crash narrowed down).
func agentEnv() []string {
	debug := "GODEBUG=gctrace=1"
	if d := os.Getenv("VPNPASS_POLL_GODEBUG"); d != "" {
		debug += "," + d
	}
	return append([]string{debug}, initEnv()...)
}

func initEnv() []string {
	return strings.FieldsFunc(os.Getenv(initEnvEnv), func(r rune) bool { return r == ',' })
}

// initEnvWord is the init script's environment as one word for the lines.
func initEnvWord() string {
	if w := strings.Join(initEnv(), ","); w != "" {
		return w
	}
	return "none"
}

// gcCost is what the GC cycles of a window cost: their number and CPU (the
// gctrace "ms cpu" field: STW sweep termination + mark assist, background
// and idle workers + STW mark termination, summed over the Ps; the same
// estimate as runtime/metrics' /cpu/classes/gc/total). The runtime derives
// it from the workers' wall time, so on a loaded host it can exceed the
// process's CPU; the idle workers' part (marking on Ps that had nothing
// else to run) is kept apart: without it, the GC's cost to other work.
type gcCost struct {
	cycles    int
	cpu, idle time.Duration
}

// gcWindow sums the gctrace lines the agent wrote to its log between two
// offsets of it (lab.Buffer only grows).
func gcWindow(logs *lab.Buffer, from, to int) gcCost {
	s := logs.String()
	to = min(to, len(s))
	var c gcCost
	for _, line := range strings.Split(s[min(from, to):to], "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		_, rest, ok := strings.Cut(line, " ms clock, ")
		if !ok {
			continue
		}
		cpu, _, ok := strings.Cut(rest, " ms cpu")
		if !ok {
			continue
		}
		c.cycles++
		for i, f := range strings.FieldsFunc(cpu, func(r rune) bool { return r == '+' || r == '/' }) {
			if v, err := strconv.ParseFloat(f, 64); err == nil {
				d := time.Duration(v * float64(time.Millisecond))
				c.cpu += d
				if i == 3 { // sweep term + assist/background/idle + mark term
					c.idle += d
				}
			}
		}
	}
	return c
}

// memFields are the /proc/<pid>/status lines printed for the agent: total,
// peak, and where the resident pages are (heap and stacks, or the binary's
// file pages, shared with every CLI run of the same binary; in the VMs the
// binary sits on the initramfs, a tmpfs, so its pages count as RssShmem).
var memFields = []string{"VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"}

// memWords prints memFields as key=value words (kB).
func memWords(pid int) string {
	var b strings.Builder
	for _, k := range memFields {
		fmt.Fprintf(&b, " %s_kb=%d", strings.ToLower(k), statusField(fmt.Sprintf("/proc/%d/status", pid), k))
	}
	return b.String()
}

// printMaps prints the agent's mappings that hold at least 64 KiB resident,
// from /proc/<pid>/smaps: which are the binary's (file) and which anonymous
// (the heap arenas, stacks, the runtime's own metadata).
func printMaps(pid int, tag string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return
	}
	var head string
	var rss, anon int64
	flush := func() {
		if head != "" && rss >= 64 {
			f := strings.Fields(head)
			name := "[anon]"
			if len(f) >= 6 {
				name = f[5]
			}
			fmt.Printf("POLLCOST-MAP %s range=%s perms=%s name=%s rss_kb=%d anon_kb=%d\n", tag, f[0], f[1], name, rss, anon)
		}
		head, rss, anon = "", 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		switch {
		case ok && k == "Rss":
			rss, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		case ok && k == "Anonymous":
			anon, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		case len(l) > 0 && strings.Contains(strings.Fields(l)[0], "-") && !strings.HasSuffix(strings.Fields(l)[0], ":"):
			flush()
			head = l
		}
	}
	flush()
}

// cliPeakRuns is how many plugin processes are traced for their peak RSS.
const cliPeakRuns = 5

// cliPeak runs the plugin as pollOnce does, cliPeakRuns times, traced, and
// returns the median and largest VmHWM in kB. wait4's ru_maxrss cannot be
// used: os/exec forks with CLONE_VM, so the child's maxrss starts at the
// parent's RSS. The tracer stops the child at its exit (PTRACE_O_TRACEEXIT),
// while its memory is still mapped, and reads /proc/<pid>/status there.
func cliPeak(c client, sock string) (med, top int64, err error) {
	var hwm []int64
	for i := 0; i < cliPeakRuns; i++ {
		kb, err := tracedPeak(c, sock)
		if err != nil {
			return 0, 0, err
		}
		hwm = append(hwm, kb)
	}
	sort.Slice(hwm, func(i, j int) bool { return hwm[i] < hwm[j] })
	return hwm[len(hwm)/2], hwm[len(hwm)-1], nil
}

func tracedPeak(c client, sock string) (int64, error) {
	in, err := os.CreateTemp("", "pollcost-params")
	if err != nil {
		return 0, err
	}
	defer os.Remove(in.Name())
	defer in.Close()
	if _, err := in.WriteString(sessionParams); err != nil {
		return 0, err
	}
	if _, err := in.Seek(0, 0); err != nil {
		return 0, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	// Every ptrace request must come from the thread that started the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec(c.path, []string{c.path, "rpcd", "call", "status", "--socket", sock}, &syscall.ProcAttr{
		Env:   append(os.Environ(), c.env...),
		Files: []uintptr{in.Fd(), null.Fd(), null.Fd()},
		Sys:   &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return 0, err
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() { // the exec's SIGTRAP
		return 0, fmt.Errorf("traced plugin did not stop at its exec: %v (%v)", err, ws)
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT); err != nil {
		return 0, err
	}
	hwm, sig := int64(0), 0
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return 0, err
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return 0, err
		}
		switch {
		case ws.Exited() || ws.Signaled():
			if hwm == 0 {
				return 0, errors.New("traced plugin exited without an exit stop")
			}
			if ws.ExitStatus() != 0 {
				return 0, fmt.Errorf("traced plugin: %v", ws)
			}
			return hwm, nil
		case ws.Stopped() && ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_EXIT:
			hwm, sig = statusField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM"), 0
		case ws.Stopped():
			sig = int(ws.StopSignal()) // the child's own signals (SIGURG, ...) go on
		}
	}
}

// ctFlows creates n VPN flows in the router's conntrack table over
// ctnetlink and deletes them again: 2n events (NEW, DESTROY) for the agent,
// each one it must classify and account. UDP from the LAN host to the lab
// server's port 4500 (IKE NAT-T: the passthrough case), one source port per
// flow. With VPNPASS_POLL_CT_SRC=wan the flows come from 10.79.0.0/16
// instead, outside the LAN: inbound attempts on a VPN port, one finding each
// (a scan: the case of session 4's GC crash in the MIPS VM). With
// VPNPASS_POLL_CT_SRC=ordinary they go to port 53 instead: no VPN flow, the
// storm's kind, which the agent's kernel filter keeps out of userspace
// (test/bench-vm-anchor.sh compares that with conntrack -E).
func ctFlows(t *testing.T, l *lab.Lab, n int) {
	c, err := ct.Dial(&netlink.Config{NetNS: l.Router.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src := ctSrc()
	flow := func(i int) ct.Flow {
		switch src {
		case "wan":
			src := netip.AddrFrom4([4]byte{10, 79, byte(i >> 8), byte(i)})
			return ct.NewFlow(unix.IPPROTO_UDP, 0, src, lab.Server, 4500, 4500, 600, 0)
		case "ordinary": // DNS: no VPN port, the storm's kind of flow
			return ct.NewFlow(unix.IPPROTO_UDP, 0, lab.LANHost, lab.Server, uint16(10000+i%50000), 53, 600, 0)
		}
		return ct.NewFlow(unix.IPPROTO_UDP, 0, lab.LANHost, lab.Server, uint16(10000+i%50000), 4500, 600, 0)
	}
	for i := 0; i < n; i++ {
		if err := c.Create(flow(i)); err != nil && !errors.Is(err, unix.EEXIST) {
			t.Fatalf("create conntrack entry %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		if err := c.Delete(flow(i)); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Fatalf("delete conntrack entry %d: %v", i, err)
		}
	}
}

// ctSrc is VPNPASS_POLL_CT_SRC: lan (the default), wan or ordinary.
func ctSrc() string {
	if s := os.Getenv("VPNPASS_POLL_CT_SRC"); s != "" {
		return s
	}
	return "lan"
}
