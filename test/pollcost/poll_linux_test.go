package pollcost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// sessionParams is what rpcd hands the plugin for LuCI's call: uhttpd adds
// the session to every call's arguments.
const sessionParams = `{"ubus_rpc_session":"0123456789abcdef0123456789abcdef"}`

// agentConfig: every protocol allowed, so the status inspects our rules too;
// accounting on and observe as asked (the package's default config has both
// on); the history and its flash copy in the test's directory.
const agentConfig = `config agent 'main'
	option enabled '1'
	option backend 'auto'
	list lan_device 'br-lan'
	option history_path '%[1]s/history.db'
	option history_persist_path '%[1]s/saved-history.db'
	option observe '%[2]s'
	option accounting '1'

config passthrough 'pptp'
	option mode 'allow'

config passthrough 'l2tp'
	option mode 'allow'

config passthrough 'ipsec'
	option mode 'allow'
`

// client is one way to run `vpnpass rpcd call status`.
type client struct {
	name, path string
	env        []string
}

// clients: the release build when bench-poll.sh put one in testdata, and
// the test binary as the CLI (bigger, more package inits: an upper bound).
func clients(t *testing.T) []client {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cs := []client{}
	rel, err := filepath.Abs(filepath.Join("testdata", "vpnpass-linux-"+runtime.GOARCH))
	if p := os.Getenv("VPNPASS_POLL_RELEASE"); p != "" { // another build, on the host
		rel, err = filepath.Abs(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rel); err == nil {
		cs = append(cs, client{name: "release", path: rel})
	} else {
		t.Logf("no release build at %s (test/bench-poll.sh makes it): measuring the test binary only", rel)
	}
	return append(cs, client{name: "test-binary", path: self, env: []string{asCLIEnv + "=1"}})
}

// envInt reads a positive integer knob (a count of flows may also be 0).
func envInt(t *testing.T, key string, def int) int {
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	if s == "0" && strings.HasSuffix(key, "_FLOWS") { // a count may be 0: none
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", key, s)
	}
	return n
}

// TestPollCost: see the package comment. Knobs: VPNPASS_POLL_N (polls per
// client, default 30), VPNPASS_POLL_INTERVAL_MS (between poll starts,
// default 500), VPNPASS_POLL_SETTLE_S (after the agent's start, default 5),
// VPNPASS_POLL_IDLE_S (the window at rest, default 60), VPNPASS_POLL_CT_FLOWS
// (VPN flows created and deleted for the per-event CPU, default 2000; 0: none),
// VPNPASS_POLL_CT_SRC (lan, wan or ordinary: see ctFlows), VPNPASS_POLL_CT_ANCHOR
// (1: `conntrack -E` consumes the same burst, its CPU beside the agent's),
// VPNPASS_POLL_AGENT_ENV (the init script's environment for the agent),
// VPNPASS_POLL_RELEASE (the release build's path, instead of testdata's),
// VPNPASS_POLL_STEPS (0: the status steps are not timed alone),
// VPNPASS_POLL_AGENT_HEAPPROFILE (a file: the agent runs as the test binary and
// writes its heap profile there at the end of the idle window),
// VPNPASS_POLL_AGENT_CPUPROFILE (a file: the agent runs as the test binary
// and writes its CPU profile there; "-": printed in base64 between
// POLLCOST-PROFILE lines, for the VMs), VPNPASS_POLL_OBSERVE (the agent's observe
// option, a list: default 1), VPNPASS_POLL_FIREWALLS (lab firewalls, default
// nftables-drop, which the VMs can build without nft).
func TestPollCost(t *testing.T) {
	if os.Getenv("VPNPASS_BENCH_POLL") != "1" {
		t.Skip("benchmark: runs with VPNPASS_BENCH_POLL=1 (test/bench-poll.sh)")
	}
	lab.Require(t)
	fws, err := lab.ParseFirewalls(os.Getenv("VPNPASS_POLL_FIREWALLS"))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("VPNPASS_POLL_FIREWALLS") == "" {
		fws = []lab.Firewall{lab.NftablesDrop}
	}
	p := plan{n: envInt(t, "VPNPASS_POLL_N", 30),
		interval: time.Duration(envInt(t, "VPNPASS_POLL_INTERVAL_MS", 500)) * time.Millisecond,
		settle:   time.Duration(envInt(t, "VPNPASS_POLL_SETTLE_S", 5)) * time.Second,
		idle:     time.Duration(envInt(t, "VPNPASS_POLL_IDLE_S", 60)) * time.Second,
		clients:  clients(t)}
	observes := strings.Split(os.Getenv("VPNPASS_POLL_OBSERVE"), ",")
	if observes[0] == "" {
		observes = []string{"1"}
	}
	for _, fw := range fws {
		for _, obs := range observes {
			t.Run(string(fw)+"/observe="+obs, func(t *testing.T) {
				lab.RequireTools(t, fw)
				l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{fw}})
				p.run(t, l, fw, obs)
			})
		}
	}
}

type plan struct {
	n        int
	interval time.Duration
	settle   time.Duration
	idle     time.Duration // the window at rest: wake-ups, idle CPU, GC
	clients  []client
}

func (p plan) run(t *testing.T, l *lab.Lab, fw lab.Firewall, observe string) {
	dir := t.TempDir()
	conf, sock := filepath.Join(dir, "vpnpass"), filepath.Join(dir, "vpnpass.sock")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(agentConfig, dir, observe)), 0o644); err != nil {
		t.Fatal(err)
	}
	ag := p.clients[0] // the release build when there is one
	env := append(os.Environ(), append(ag.env, agentEnv()...)...)
	if prof := os.Getenv("VPNPASS_POLL_AGENT_HEAPPROFILE"); prof != "" {
		// The test binary as the agent writes its heap profile and
		// goroutine stacks on SIGUSR1, sent at the end of the idle window.
		ag = p.clients[len(p.clients)-1]
		env = append(os.Environ(), append(append(ag.env, agentEnv()...), heapProfileEnv+"="+prof)...)
	}
	if prof := os.Getenv("VPNPASS_POLL_AGENT_CPUPROFILE"); prof != "" {
		if prof == "-" { // printed after the run: the VM's files are lost
			prof = filepath.Join(dir, "agent.prof")
			defer printProfile(t, prof)
		}
		// Only the test binary can write a profile.
		ag = p.clients[len(p.clients)-1]
		env = append(os.Environ(), append(append(ag.env, agentEnv()...), cpuProfileEnv+"="+prof)...)
	}
	cmd := l.Router.Command(ag.path, "agent", "--config", conf, "--socket", sock)
	logs := &lab.Buffer{}
	cmd.Stdout, cmd.Stderr, cmd.Env = logs, logs, env
	if err := l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	defer stopAgent(t, cmd, logs)
	waitReady(t, sock, logs)
	pid := cmd.Process.Pid
	// One poll first: the binary's pages and the agent's first answer are
	// warm on a router that has been polled for a while.
	if _, err := pollOnce(ag, sock); err != nil {
		t.Fatal(err)
	}
	// The agent's start (doctor, WAN watch, first inspections) must be over
	// before its idle rate is taken.
	time.Sleep(p.settle)
	if os.Getenv("VPNPASS_POLL_AGENT_HEAPPROFILE") != "" { // the idle window's start
		_ = syscall.Kill(pid, syscall.SIGUSR1)
		time.Sleep(time.Second)
	}
	sw0, log0 := procSwitches(t, pid), logs.Len()
	idle := agentCPU(t, pid, func() { time.Sleep(p.idle) })
	gc := gcWindow(logs, log0, logs.Len())
	// Wake-ups at rest (context switches of all threads), memory (the
	// binary's file pages apart from heap and stacks) and the GC's share of
	// the agent's CPU at rest. The agent judges every judgeEvery (2 s):
	// nothing else runs at rest, so its CPU per judging tick is the idle CPU
	// over the window's ticks (an upper bound).
	ienv := initEnvWord()
	fmt.Printf("POLLCOST-IDLE arch=%s firewall=%s observe=%s initenv=%s idle_s=%.1f wakeups_per_min=%.0f cpu_ms=%.0f judge_ms_per_tick=%.2f gc_cycles=%d gc_cpu_ms=%.2f gc_idle_ms=%.2f gc_pct_of_cpu=%.2f gc_busy_pct_of_cpu=%.2f%s\n",
		runtime.GOARCH, fw, observe, ienv, idle.wall.Seconds(), float64(procSwitches(t, pid)-sw0)*60/idle.wall.Seconds(),
		ms(idle.cpu), ms(idle.cpu)/(idle.wall.Seconds()/2), gc.cycles, ms(gc.cpu), ms(gc.idle), pct(gc.cpu, idle.cpu),
		pct(gc.cpu-gc.idle, idle.cpu), memWords(pid))
	printMaps(pid, fmt.Sprintf("arch=%s firewall=%s observe=%s when=idle", runtime.GOARCH, fw, observe))
	if os.Getenv("VPNPASS_POLL_AGENT_HEAPPROFILE") != "" {
		_ = syscall.Kill(pid, syscall.SIGUSR1)
		time.Sleep(2 * time.Second)
	}
	// A burst of VPN conntrack events (NEW and DESTROY of n flows): the
	// agent's CPU per event, less its idle rate over the same time.
	if nf := envInt(t, "VPNPASS_POLL_CT_FLOWS", 2000); nf > 0 {
		anchor := startAnchorCT(t, l)
		log0, a0 := logs.Len(), anchor.cpu(t)
		burst := agentCPU(t, pid, func() { ctFlows(t, l, nf); time.Sleep(2 * time.Second) })
		gc, acpu := gcWindow(logs, log0, logs.Len()), anchor.cpu(t)-a0
		extra := burst.cpu - time.Duration(float64(idle.cpu)*burst.wall.Seconds()/idle.wall.Seconds())
		fmt.Printf("POLLCOST-CT arch=%s firewall=%s observe=%s initenv=%s src=%s events=%d wall_ms=%.0f cpu_ms=%.0f us_per_event=%.1f gc_cycles=%d gc_cpu_ms=%.2f gc_idle_ms=%.2f gc_pct_of_cpu=%.2f gc_busy_pct_of_cpu=%.2f%s%s\n",
			runtime.GOARCH, fw, observe, ienv, ctSrc(), 2*nf, ms(burst.wall), ms(burst.cpu), float64(extra.Microseconds())/float64(2*nf),
			gc.cycles, ms(gc.cpu), ms(gc.idle), pct(gc.cpu, burst.cpu), pct(gc.cpu-gc.idle, burst.cpu), memWords(pid),
			anchor.words(t, acpu, 2*nf))
	}
	// The plugin process's peak RSS (traced, outside the timed polls).
	for _, c := range p.clients {
		med, top, err := cliPeak(c, sock)
		if err != nil {
			t.Fatalf("peak RSS of the plugin (%s): %v", c.name, err)
		}
		fmt.Printf("POLLCOST-CLIMEM arch=%s firewall=%s observe=%s client=%s runs=%d hwm_med_kb=%d hwm_max_kb=%d\n",
			runtime.GOARCH, fw, observe, c.name, cliPeakRuns, med, top)
	}
	defer func() { // after the polls
		fmt.Printf("POLLCOST-MEM arch=%s firewall=%s observe=%s initenv=%s%s\n",
			runtime.GOARCH, fw, observe, ienv, memWords(pid))
	}()
	if os.Getenv("VPNPASS_POLL_STEPS") != "0" { // 0: not timed (a slow VM)
		printSteps(t, l, conf, string(fw), observe, "before")
		// Again after the polls: a step that got dearer points at what grows.
		defer printSteps(t, l, conf, string(fw), observe, "after")
	}
	for _, c := range p.clients {
		var samples []sample
		busy := agentCPU(t, pid, func() { samples = p.polls(t, c, sock, logs) })
		// The idle rate over the same wall time is what the agent spends anyway.
		idleShare := time.Duration(float64(idle.cpu) * busy.wall.Seconds() / idle.wall.Seconds())
		perPoll := (busy.cpu - idleShare) / time.Duration(p.n)
		size := int64(0)
		if fi, err := os.Stat(c.path); err == nil {
			size = fi.Size()
		}
		fmt.Printf("POLLCOST arch=%s firewall=%s observe=%s client=%s bin_kb=%d polls=%d interval_ms=%d %s agent_ms_per_poll=%.2f agent_idle_pct=%.3f\n",
			runtime.GOARCH, fw, observe, c.name, size/1024, p.n, p.interval.Milliseconds(), summarize(samples),
			ms(perPoll), 100*idle.cpu.Seconds()/idle.wall.Seconds())
	}
}

// polls runs n polls, one every interval (or back to back when a poll takes
// longer), and returns their samples.
func (p plan) polls(t *testing.T, c client, sock string, logs *lab.Buffer) []sample {
	out := make([]sample, 0, p.n)
	start := time.Now()
	for i := 0; i < p.n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * p.interval)); d > 0 {
			time.Sleep(d)
		}
		s, err := pollOnce(c, sock)
		if err != nil {
			walls := make([]string, len(out))
			for j, s := range out {
				walls[j] = fmt.Sprintf("%.0f", ms(s.wall))
			}
			t.Fatalf("poll %d with %s, %v after the first: %v\nearlier polls' wall ms: %s\nagent log:\n%s",
				i, c.name, time.Since(start), err, strings.Join(walls, " "), logs.String())
		}
		if s.answer != "" {
			t.Logf("poll %d with %s answered, after %.0f ms, %s", i, c.name, ms(s.wall), s.answer)
		}
		out = append(out, s)
	}
	// Leave the agent the same tail as the idle window has, for its GC.
	time.Sleep(time.Until(start.Add(time.Duration(p.n) * p.interval)))
	return out
}

// sample is one poll process: wall time and wait4's rusage of that child.
type sample struct {
	// No ru_maxrss: a child forked with CLONE_VM (os/exec) reports the
	// parent's peak RSS, recorded at its exec.
	wall, user, sys time.Duration
	answer          string // the error object LuCI would show instead of the status
}

// pollOnce runs the plugin as rpcd does (`rpcd call status`, params on
// stdin). An error object (the agent did not answer in time) is a result to
// count, not a failure of the benchmark.
func pollOnce(c client, sock string) (sample, error) {
	cmd := exec.Command(c.path, "rpcd", "call", "status", "--socket", sock)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(sessionParams)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s%s", err, out.Bytes(), errOut.Bytes())
	}
	var res struct {
		Backend json.RawMessage `json:"backend"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || (res.Backend == nil) == (res.Error == nil) {
		return sample{}, fmt.Errorf("neither a status nor an error object (%v): %s", err, out.Bytes())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s := sample{wall: wall, user: tv(ru.Utime), sys: tv(ru.Stime)}
	if res.Error != nil {
		s.answer = string(res.Error)
	}
	return s, nil
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

func waitReady(t *testing.T, sock string, logs *lab.Buffer) {
	deadline := time.Now().Add(90 * time.Second) // the emulated VMs are slow
	var err error
	for time.Now().Before(deadline) {
		if err = ping(sock); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("agent did not answer status within 90 s: %v\n%s", err, logs.String())
}

func ping(sock string) error {
	c, err := api.Dial(sock)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Call(ctx, "status", nil, nil)
}

func stopAgent(t *testing.T, cmd *exec.Cmd, logs *lab.Buffer) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent exited with %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("agent did not stop within 30 s of SIGTERM\n%s", logs.String())
	}
}

// printProfile prints the agent's CPU profile in base64 (after the agent
// stopped: defers run last-in first-out).
func printProfile(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("agent profile: %v", err)
		return
	}
	enc := base64.StdEncoding.EncodeToString(b)
	fmt.Println("POLLCOST-PROFILE-BEGIN")
	for len(enc) > 0 {
		n := min(len(enc), 76)
		fmt.Println(enc[:n])
		enc = enc[n:]
	}
	fmt.Println("POLLCOST-PROFILE-END")
}
