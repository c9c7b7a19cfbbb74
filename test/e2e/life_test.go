package e2e

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// soakEnv switches the router-life tests (life_*_test.go, issue 15) from
// their short `make test` counts to the long counts of `make soak`.
const soakEnv = "VPNPASS_SOAK"

// lifeCount is fast under `make test` and soak under `make soak`
// (VPNPASS_SOAK=1); VPNPASS_SOAK=<n> with n > 1 sets the count itself.
func lifeCount(fast, soak int) int {
	v := os.Getenv(soakEnv)
	if v == "" || v == "0" {
		return fast
	}
	if n, err := strconv.Atoi(v); err == nil && n > 1 {
		return n
	}
	return soak
}

// lifeTable prints a table of figures for the comparison table:
// one row per measured thing, "what | value".
type lifeTable struct{ rows [][2]string }

func (lt *lifeTable) add(what, format string, args ...any) {
	lt.rows = append(lt.rows, [2]string{what, fmt.Sprintf(format, args...)})
}

func (lt *lifeTable) log(t testing.TB, title string) {
	t.Helper()
	w := 0
	for _, r := range lt.rows {
		w = max(w, len(r[0]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	for _, r := range lt.rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, r[0], r[1])
	}
	t.Log(b.String())
}

// durations summarises measured durations: count, median, max.
type durations []time.Duration

func (d durations) String() string {
	if len(d) == 0 {
		return "none"
	}
	s := append(durations{}, d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return fmt.Sprintf("n=%d median %v max %v", len(s), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

func (d durations) max() time.Duration {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

// iptablesTagged returns the rules carrying our tag in every iptables
// variant and table the agent writes to, one line per rule, prefixed with
// where it is.
func iptablesTagged(t testing.TB, l *lab.Lab) []string {
	t.Helper()
	var out []string
	for _, v := range []string{"legacy", "nft"} {
		for _, tool := range []string{"iptables", "ip6tables"} {
			for _, table := range []string{"filter", "raw"} {
				b, _ := l.Router.Run(tool+"-"+v+"-save", "-t", table)
				for _, line := range strings.Split(string(b), "\n") {
					if strings.Contains(line, "vpnpass") && strings.HasPrefix(line, "-A") {
						out = append(out, tool+"-"+v+" "+table+" "+line)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// duplicates returns the lines that occur more than once in a sorted list.
func duplicates(sorted []string) []string {
	var d []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && (len(d) == 0 || d[len(d)-1] != sorted[i]) {
			d = append(d, sorted[i])
		}
	}
	return d
}
