package openwrt

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// destroyWatch is `conntrack -E -e DESTROY` in the router, started before
// the flows it watches: with nf_conntrack_events=2 a flow reports events
// only if a listener existed when it was created.
type destroyWatch struct {
	cmd *exec.Cmd
	out *lab.Buffer
}

func watchDestroy(t *testing.T, l *lab.Lab) *destroyWatch {
	t.Helper()
	w := &destroyWatch{out: &lab.Buffer{}}
	w.cmd = l.Router.Command("conntrack", "-E", "-e", "DESTROY", "-o", "timestamp,id", "--buffer-size", "8388608")
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := l.Router.StartCmd(w.cmd); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // subscribed before the first flow
	return w
}

func (w *destroyWatch) stop() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGTERM)
}

// destroyed is one DESTROY event of a watched flow.
type destroyed struct {
	at   time.Time
	flow string // the watchedFlow's name
	line string
}

// watchedFlow names a long-lived VPN flow by what its DESTROY line holds.
type watchedFlow struct {
	name string
	re   *regexp.Regexp
}

// vpnFlows are the long-lived flows of the LAN host that a firewall reload
// must never destroy: the UDP streams' own flows (by source port), the
// raw ESP flow, PPTP's GRE and its TCP 1723 control connection.
func vpnFlows(udp []*longFlow) []watchedFlow {
	host := regexp.QuoteMeta(lab.LANHost.String())
	var ws []watchedFlow
	for _, f := range udp {
		ws = append(ws, watchedFlow{fmt.Sprintf("udp/%d", f.port),
			regexp.MustCompile(`\budp\b.*src=` + host + ` .*sport=` + strconv.Itoa(int(f.local.Port())) + ` dport=` + strconv.Itoa(int(f.port)) + `\b`)})
	}
	return append(ws,
		watchedFlow{"esp", regexp.MustCompile(`(\besp\b|\bunknown\s+50\b).*src=` + host + ` `)},
		watchedFlow{"gre", regexp.MustCompile(`\bgre\b.*src=` + host + ` `)},
		watchedFlow{"pptp-ctl", regexp.MustCompile(`\btcp\b.*src=` + host + ` .*dport=1723\b`)},
	)
}

var eventTime = regexp.MustCompile(`^\[(\d+)\.(\d+)\]`)

// events returns the DESTROY events of the watched flows so far.
func (w *destroyWatch) events(flows []watchedFlow) []destroyed {
	var out []destroyed
	for _, line := range strings.Split(w.out.String(), "\n") {
		for _, f := range flows {
			if !f.re.MatchString(line) {
				continue
			}
			d := destroyed{flow: f.name, line: line}
			if m := eventTime.FindStringSubmatch(line); m != nil {
				sec, _ := strconv.ParseInt(m[1], 10, 64)
				usec, _ := strconv.ParseInt(m[2], 10, 64)
				d.at = time.Unix(sec, usec*1000)
			}
			out = append(out, d)
			break
		}
	}
	return out
}

// countBetween counts events in [from, to).
func countBetween(evs []destroyed, from, to time.Time) int {
	n := 0
	for _, e := range evs {
		if !e.at.Before(from) && e.at.Before(to) {
			n++
		}
	}
	return n
}
