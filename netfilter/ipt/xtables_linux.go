package ipt

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Tool runs one iptables binary (iptables-legacy, ip6tables-nft, ...) the way
// go-iptables did, with the few calls this package needs. go-iptables
// compiled two regular expressions and linked regexp (~260 KB of a stripped
// mips binary, and its init on every start of the CLI) to read a version
// number and strip "[0:0]" counters; OpenWrt and Debian ship iptables >= 1.6,
// which all take "--wait <seconds>", so no version probe is needed either
// (one exec less per family).
type Tool struct {
	_    [0]func()
	path string
	wait string // seconds for --wait; "" waits without a limit
}

// NewTool runs the binary at path, waiting up to wait seconds for the xtables
// lock (0: no limit).
func NewTool(path string, wait int) *Tool {
	t := &Tool{path: path}
	if wait > 0 {
		t.wait = strconv.Itoa(wait)
	}
	return t
}

// ToolError is a run of the binary that exited non-zero, with its stderr.
type ToolError struct {
	Args   []string
	Status int
	Stderr string
}

func (e *ToolError) Error() string {
	return "running [" + strings.Join(e.Args, " ") + "]: exit status " + strconv.Itoa(e.Status) + ": " + e.Stderr
}

// run executes the binary with args (and --wait), stdout into out when set.
func (t *Tool) run(out *bytes.Buffer, args ...string) error {
	slicex.Strings(&args, "--wait")
	if t.wait != "" {
		slicex.Strings(&args, t.wait)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(t.path, args...)
	cmd.Stderr = &stderr
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return &ToolError{Args: cmd.Args, Status: ee.ExitCode(), Stderr: stderr.String()}
		}
		return netfilter.Wrap("run "+t.path, err)
	}
	return nil
}

// list returns the lines "-S" prints, without the trailing empty one.
func (t *Tool) list(args ...string) ([]string, error) {
	var out bytes.Buffer
	if err := t.run(&out, args...); err != nil {
		return nil, err
	}
	lines := strings.Split(out.String(), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, l := range lines {
		lines[i] = moveCounters(l)
	}
	return lines, nil
}

// moveCounters turns "[3:180] -A X ..." (iptables-nft printing counters in
// iptables-save form) into "-A X ... -c 3 180", the -S form, as go-iptables did.
func moveCounters(l string) string {
	if !strings.HasPrefix(l, "[") {
		return l
	}
	end := strings.Index(l, "] ")
	if end < 0 {
		return l
	}
	pk, by, ok := strings.Cut(l[1:end], ":")
	if !ok || !digits(pk) || !digits(by) {
		return l
	}
	return l[end+2:] + " -c " + pk + " " + by
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ListTable returns a whole table in -S form: the -P lines of the built-in
// chains and the -N lines of the user chains, then every chain's -A lines.
func (t *Tool) ListTable(table string) ([]string, error) {
	return t.list("-t", table, "-S")
}

// edit runs "-t table verb chain words...".
func (t *Tool) edit(table, verb, chain string, words []string) error {
	return t.run(nil, append([]string{"-t", table, verb, chain}, words...)...)
}

// NewChain creates a user chain; it fails when the chain exists.
func (t *Tool) NewChain(table, chain string) error { return t.edit(table, "-N", chain, nil) }

// DeleteChain deletes an empty user chain.
func (t *Tool) DeleteChain(table, chain string) error { return t.edit(table, "-X", chain, nil) }

// ClearChain flushes a chain, creating it when missing.
func (t *Tool) ClearChain(table, chain string) error {
	err := t.NewChain(table, chain)
	if e, ok := err.(*ToolError); ok && e.Status == 1 {
		return t.edit(table, "-F", chain, nil)
	}
	return err
}

// Append adds a rule at the end of a chain.
func (t *Tool) Append(table, chain string, rulespec ...string) error {
	return t.edit(table, "-A", chain, rulespec)
}

// Insert adds a rule at 1-based position pos.
func (t *Tool) Insert(table, chain string, pos int, rulespec ...string) error {
	return t.edit(table, "-I", chain, append([]string{strconv.Itoa(pos)}, rulespec...))
}

// Delete removes the first rule matching rulespec.
func (t *Tool) Delete(table, chain string, rulespec ...string) error {
	return t.edit(table, "-D", chain, rulespec)
}
