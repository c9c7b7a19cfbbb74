package pollcost

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/helpers"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/test/lab"
)

// stepRuns is how often each step of a status is repeated for its median.
const stepRuns = 5

// printSteps times (drift plan, inspection, helpers), in this process and inside the router's namespace while
// the agent runs, the kernel-facing steps a status is made of: where an
// agent's CPU per poll goes on a target where CPU profiles do not work (the
// mips guest's SIGPROF delivers no samples).
func printSteps(t *testing.T, l *lab.Lab, conf, fwName, observe, when string) {
	cfg, _, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The agent's own manager reads its drift the same way (status calls
	// Plan first); this one only reads.
	var mgr *fw.Manager
	var st api.Status // the last collect's, for encode
	err = l.Router.Do(func() error {
		r, err := agent.ResolveRouter(cfg, agent.DefaultPaths())
		if err == nil {
			mgr, _, err = fw.Open(agent.FirewallOptions(cfg, r, agent.DefaultPaths(), nil))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"drift-plan", func() error { _, err := mgr.Plan(cfg.Desired()); return err }},
		{"inspect", func() error {
			_, err := fw.Inspect(fw.InspectOptions{LANDevices: []string{lab.LANDevice}, WANDevice: l.WANDevice, Desired: cfg.Desired()})
			return err
		}},
		{"helpers", func() error { _, err := helpers.Probe(helpers.Options{}); return err }},
		// What a poll costs when the agent reuses its last status: the
		// key's kernel reads (agent/statuscache.go) and the answer's encoding.
		{"status-key", func() error {
			_ = fw.LegacyFilter()
			_, err := fw.Generation()
			return err
		}},
		// A whole status as the agent builds it when something changed
		// (WAN look, drift plan aside, inspection, helpers, inbound).
		{"collect", func() error {
			var err error
			st, err = agent.CollectStatus(context.Background(), agent.LiveSources(cfg, agent.DefaultPaths().Network),
				agent.StatusInput{LANDevices: []string{lab.LANDevice}, Desired: cfg.Desired()})
			return err
		}},
		{"encode", func() error { _, err := json.Marshal(st); return err }},
	}
	for _, s := range steps {
		var cpu, wall []time.Duration
		err := l.Router.Do(func() error {
			for i := 0; i < stepRuns; i++ {
				c0, w0 := threadCPU(), time.Now()
				if err := s.fn(); err != nil {
					return err
				}
				cpu, wall = append(cpu, threadCPU()-c0), append(wall, time.Since(w0))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("step %s: %v", s.name, err)
		}
		fmt.Printf("POLLCOST-STEP arch=%s firewall=%s observe=%s step=%s when=%s runs=%d wall_med_ms=%.2f thread_cpu_med_ms=%.2f\n",
			runtime.GOARCH, fwName, observe, s.name, when, stepRuns, ms(quantile(wall, .5)), ms(quantile(cpu, .5)))
	}
}

// threadCPU is the calling thread's user+sys time (Do locks the goroutine
// to its thread; the steps' netlink calls run on it).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}
