package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Node is one network namespace of the lab.
type Node struct {
	// Role is "lan", "lan2", "rtr", "isp" or "inet".
	Role string
	// NS is the named namespace ("vp1234-ab12-rtr"), usable with
	// `ip netns exec`.
	NS string

	handle netns.NsHandle
	nl     *netlink.Handle

	mu      sync.Mutex
	procs   []*proc
	closers []func() error
}

type proc struct {
	cmd *exec.Cmd
	out *Buffer // nil when the caller wired the output itself
}

func (n *Node) String() string { return n.Role + " (" + n.NS + ")" }

// Fd is the namespace's file descriptor, e.g. for nftables.WithNetNSFd. It
// stays valid until the lab is closed.
func (n *Node) Fd() int { return int(n.handle) }

// Netlink is a netlink handle operating in the node's namespace.
func (n *Node) Netlink() *netlink.Handle { return n.nl }

// Do runs fn on a locked OS thread that has joined the node's namespace.
// Sockets created in fn belong to the namespace for their whole life;
// goroutines started by fn do not inherit it. fn runs on another goroutine:
// it must not call t.FailNow (t.Fatal); return an error instead.
func (n *Node) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns %s: %w", n.NS, err)
			return
		}
		ferr := callSafely(fn)
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: when this goroutine ends, Go
			// terminates the thread instead of reusing it in the wrong netns.
			errc <- errors.Join(ferr, fmt.Errorf("leave netns %s: %w", n.NS, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func callSafely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// Command prepares a command for StartCmd or RunCmd: its own process group,
// so cleanup also kills its children.
func (n *Node) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// CommandContext is Command whose process group is killed when ctx is done.
func (n *Node) CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs a command inside the namespace and returns its combined output.
// The error names the command and the node and includes the output.
func (n *Node) Run(name string, args ...string) ([]byte, error) {
	cmd := n.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := n.RunCmd(cmd)
	return out.Bytes(), err
}

// RunCmd runs a prepared command inside the namespace and waits for it.
func (n *Node) RunCmd(cmd *exec.Cmd) error {
	if err := n.startCmd(cmd); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return n.cmdError(cmd, err)
	}
	return nil
}

func (n *Node) cmdError(cmd *exec.Cmd, err error) error {
	msg := ""
	if b, ok := cmd.Stdout.(*bytes.Buffer); ok {
		msg = strings.TrimSpace(b.String())
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Errorf("%s in %s: %w%s", strings.Join(cmd.Args, " "), n.NS, err, msg)
}

// Start starts a command inside the namespace. Its combined output is kept
// in a *Buffer (cmd.Stdout) and logged if the test fails. The process
// group is killed when the lab is closed.
func (n *Node) Start(name string, args ...string) (*exec.Cmd, error) {
	cmd := n.Command(name, args...)
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := n.startCmd(cmd); err != nil {
		return nil, err
	}
	n.addProc(&proc{cmd: cmd, out: out})
	return cmd, nil
}

// StartCmd starts a prepared command (see Command) inside the namespace;
// it is killed when the lab is closed.
func (n *Node) StartCmd(cmd *exec.Cmd) error {
	if err := n.startCmd(cmd); err != nil {
		return err
	}
	n.addProc(&proc{cmd: cmd})
	return nil
}

// startCmd forks from a thread inside the namespace: the child inherits the
// network namespace of the thread that cloned it.
func (n *Node) startCmd(cmd *exec.Cmd) error {
	err := n.Do(cmd.Start)
	if err != nil {
		return fmt.Errorf("start %s in %s: %w", strings.Join(cmd.Args, " "), n.NS, err)
	}
	return nil
}

func (n *Node) addProc(p *proc) {
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
}

func (n *Node) onClose(fn func() error) {
	n.mu.Lock()
	n.closers = append(n.closers, fn)
	n.mu.Unlock()
}

// killAll kills every started process group and runs the registered
// closers. It returns the output of processes, for the failure log.
func (n *Node) killAll() (logs []string, errs []error) {
	n.mu.Lock()
	procs, closers := n.procs, n.closers
	n.procs, n.closers = nil, nil
	n.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range procs {
		if p.cmd.Process != nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			reap(p.cmd.Process)
		}
		if p.out != nil && p.out.Len() > 0 {
			logs = append(logs, fmt.Sprintf("%s in %s:\n%s", strings.Join(p.cmd.Args, " "), n.NS, p.out.String()))
		}
	}
	return logs, errs
}

// reap collects a killed process. It uses os.Process.Wait, not Cmd.Wait:
// the test may be in cmd.Wait itself (then this returns at once), and two
// Cmd.Waits would race on the Cmd's fields. Never block for long.
func reap(p *os.Process) {
	done := make(chan struct{})
	go func() { _, _ = p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// Sysctl writes a value under /proc/sys from a thread inside the namespace
// (/proc/sys/net is per network namespace). key is "net/ipv4/ip_forward" or
// "net.ipv4.ip_forward".
func (n *Node) Sysctl(key, value string) error {
	p := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	if strings.Contains(key, "/") {
		p = filepath.Join("/proc/sys", key)
	}
	err := n.Do(func() error { return os.WriteFile(p, []byte(value), 0o644) })
	if err != nil {
		return fmt.Errorf("sysctl %s=%s in %s: %w", key, value, n.NS, err)
	}
	return nil
}

// ReadSysctl reads a value under /proc/sys inside the namespace.
func (n *Node) ReadSysctl(key string) (string, error) {
	p := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	if strings.Contains(key, "/") {
		p = filepath.Join("/proc/sys", key)
	}
	var b []byte
	err := n.Do(func() (err error) { b, err = os.ReadFile(p); return err })
	return strings.TrimSpace(string(b)), err
}

// Buffer is a goroutine-safe bytes.Buffer for the output of started
// processes.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Len returns the number of bytes written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}
