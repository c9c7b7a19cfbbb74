package pollcost

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// userHZ is the unit of /proc/<pid>/stat's utime and stime: USER_HZ, 100 on
// every architecture Go runs on except alpha.
const userHZ = 100

// window is a process's CPU (user+sys) over a stretch of wall time.
type window struct{ cpu, wall time.Duration }

// agentCPU measures the CPU the process pid uses while fn runs. /proc's
// ticks are 10 ms, so windows hold many polls: the per-poll figure's
// resolution is 10 ms divided by the number of polls.
func agentCPU(t *testing.T, pid int, fn func()) window {
	c0, t0 := procCPU(t, pid), time.Now()
	fn()
	c1, t1 := procCPU(t, pid), time.Now()
	return window{cpu: c1 - c0, wall: t1.Sub(t0)}
}

// procCPU reads utime+stime of a whole process (all threads, dead ones too).
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name may hold spaces: the fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime (fields 14 and 15)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// quantile is the nearest-rank q-quantile of xs (sorted in place).
func quantile(xs []time.Duration, q float64) time.Duration {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	i := int(q*float64(len(xs))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	return xs[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is part as a percentage of whole (0 when whole is 0).
func pct(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// summarize prints the samples' median and p90 as key=value words.
func summarize(ss []sample) string {
	pick := func(f func(sample) time.Duration) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, s := range ss {
			out[i] = f(s)
		}
		return out
	}
	wall := pick(func(s sample) time.Duration { return s.wall })
	cpu := pick(func(s sample) time.Duration { return s.user + s.sys })
	user := pick(func(s sample) time.Duration { return s.user })
	sys := pick(func(s sample) time.Duration { return s.sys })
	// The first and last fifth's medians: does a poll get dearer as polls go on?
	k := max(len(wall)/5, 1)
	first, last := quantile(append([]time.Duration{}, wall[:k]...), .5), quantile(append([]time.Duration{}, wall[len(wall)-k:]...), .5)
	errs := 0
	for _, s := range ss {
		if s.answer != "" {
			errs++
		}
	}
	return fmt.Sprintf("errors=%d wall_med_ms=%.1f wall_p90_ms=%.1f cpu_med_ms=%.1f cpu_p90_ms=%.1f user_med_ms=%.1f sys_med_ms=%.1f wall_first_ms=%.1f wall_last_ms=%.1f",
		errs, ms(quantile(wall, .5)), ms(quantile(wall, .9)), ms(quantile(cpu, .5)), ms(quantile(cpu, .9)),
		ms(quantile(user, .5)), ms(quantile(sys, .5)), ms(first), ms(last))
}

// procSwitches sums voluntary and involuntary context switches over the
// process's live threads: each is a wake-up (a timer, a socket, the GC).
func procSwitches(t *testing.T, pid int) int64 {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, task := range tasks {
		for _, k := range []string{"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"} {
			n += statusField(dir+"/"+task.Name()+"/status", k)
		}
	}
	return n
}

// statusField reads one number of a /proc status file (0 when missing).
func statusField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
