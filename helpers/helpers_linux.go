package helpers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Probe asks the kernel, in the calling thread's network namespace, which
// helpers it has. The pptp helper is probed by creating a ct helper object of
// type pptp in a throw-away table: the kernel refuses it with ENOENT when the
// helper is not registered (built in or loaded). GRE tracking has no such
// object; its sysctl exists exactly when GRE tracking is in the kernel.
func Probe(o Options) (Report, error) {
	ok, err := probeCtHelper("pptp", unix.IPPROTO_TCP)
	if err != nil {
		return Report{}, err
	}
	r := Report{
		PPTP: Info{State: o.classify(ok, ModulePPTP), Module: ModulePPTP, Package: PackagePPTP, AssignedBy: []string{}},
	}
	_, greErr := os.Stat(o.path("/proc/sys/net/netfilter/nf_conntrack_gre_timeout"))
	r.GRE = Info{State: o.classify(greErr == nil, ModuleGRE), Module: ModuleGRE, Package: PackageGRE, AssignedBy: []string{}}
	return r, nil
}

func probeCtHelper(name string, l4 uint8) (bool, error) {
	conn, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("probe ct helper %s: open nftables netlink: %w", name, err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: fmt.Sprintf("vpnpass_probe_%d", os.Getpid())}
	conn.AddTable(t)
	conn.AddObj(&nftables.NamedObj{
		Table: t, Name: "vpnpass_probe", Type: nftables.ObjTypeCtHelper,
		Obj: &expr.CtHelper{Name: name, L4Proto: l4, L3Proto: unix.NFPROTO_IPV4},
	})
	flushErr := conn.Flush()
	// The table exists only if the batch went through; remove it either way
	// (a failed batch is rolled back by the kernel, so this may say ENOENT).
	conn.DelTable(t)
	_ = conn.Flush()
	switch {
	case flushErr == nil:
		return true, nil
	case errors.Is(flushErr, unix.ENOENT), errors.Is(flushErr, unix.EOPNOTSUPP):
		return false, nil
	case errors.Is(flushErr, unix.EPERM):
		return false, fmt.Errorf("probe ct helper %s: no permission (run as root): %w", name, flushErr)
	}
	return false, fmt.Errorf("probe ct helper %s: %w", name, flushErr)
}

// modprobeCommands are the only commands Load ever runs: fixed, never built
// from input. OpenWrt has no modprobe by default; its kmodloader ships one.
var modprobeCommands = map[string][]string{
	ModulePPTP: {"/sbin/modprobe", ModulePPTP},
	ModuleGRE:  {"/sbin/modprobe", ModuleGRE},
}

// Load loads a module that is present but not loaded (OpenWrt autoloads the
// nathelper modules only at boot).
func Load(module string) error {
	argv, ok := modprobeCommands[module]
	if !ok {
		return fmt.Errorf("load module %q: not a module vpnpass loads", module)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("load module %s: %s: %w", module, firstLine(out), err)
	}
	return nil
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}
