package helpers

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nft"
)

// Probe asks the kernel, in the calling thread's network namespace, which
// helpers it has. The pptp helper is probed by creating a ct helper object of
// type pptp in a throw-away table (nft.ProbeCtHelper, so that every nftables
// write of ours is netfilter's and CleanupAll finds a table a killed probe
// left). GRE tracking has no such
// object; its sysctl exists exactly when GRE tracking is in the kernel.
func Probe(o Options) (Report, error) {
	ok, err := nft.ProbeCtHelper("pptp", unix.IPPROTO_TCP)
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

// modprobeCommands returns the only commands Load ever runs: fixed, never
// built from input (nil for any other module). OpenWrt has no modprobe by
// default; its kmodloader ships one. A switch, not a map: no init code.
func modprobeCommands(module string) []string {
	switch module {
	case ModulePPTP:
		return []string{"/sbin/modprobe", ModulePPTP}
	case ModuleGRE:
		return []string{"/sbin/modprobe", ModuleGRE}
	}
	return nil
}

// Load loads a module that is present but not loaded (OpenWrt autoloads the
// nathelper modules only at boot).
func Load(module string) error {
	argv := modprobeCommands(module)
	if argv == nil {
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
