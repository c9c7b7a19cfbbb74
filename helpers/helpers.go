// Package helpers answers whether the kernel offers the conntrack helpers
// vpnpass relies on (pptp, with GRE tracking) and loads a present but
// unloaded module on request. It never logs; errors name the step.
package helpers

import (
	"os"
	"path/filepath"
	"strings"
)

// State is a helper's state in status (docs/interface.md#status).
type State string

// Helper states.
const (
	Builtin         State = "builtin"           // compiled into the kernel
	Loaded          State = "loaded"            // a loaded module
	ModuleNotLoaded State = "module-not-loaded" // module file present, not loaded
	Absent          State = "absent"            // neither: a package must be installed
)

// Info describes one helper (or GRE tracking).
type Info struct {
	State State `json:"state"`
	// Module is the kernel module that provides it, for advice and loading.
	Module string `json:"module,omitempty"`
	// Package is the OpenWrt package that ships the module.
	Package string `json:"package,omitempty"`
	// AssignedBy lists who assigns the helper to traffic (filled by inspection).
	AssignedBy []string `json:"assigned_by"`
}

// Usable reports whether the kernel can use the helper right now.
func (i Info) Usable() bool { return i.State == Builtin || i.State == Loaded }

// Report is the answer for the helpers vpnpass uses.
type Report struct {
	PPTP Info `json:"pptp"`
	GRE  Info `json:"gre"`
}

// Module and package names. kmod-nf-nathelper-extra ships nf_conntrack_pptp and GRE tracking
// on OpenWrt 21.02 and later; older images split it into -pptp.
const (
	ModulePPTP  = "nf_conntrack_pptp"
	ModuleGRE   = "nf_conntrack_proto_gre"
	PackagePPTP = "kmod-nf-nathelper-extra"
	PackageGRE  = "kmod-nf-nathelper-extra"
)

// Options points the probe at a root prefix (tests) and the running kernel.
type Options struct {
	Root    string // "" = /
	Release string // kernel release; "" = from /proc/sys/kernel/osrelease
}

func (o Options) path(p string) string { return filepath.Join(o.rootDir(), p) }

func (o Options) rootDir() string {
	if o.Root == "" {
		return "/"
	}
	return o.Root
}

func (o Options) release() string {
	if o.Release != "" {
		return o.Release
	}
	b, err := os.ReadFile(o.path("/proc/sys/kernel/osrelease"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// moduleLoaded tells a loaded module from a built-in one: only loadable
// modules have /sys/module/<name>/initstate (a built-in may have no entry).
func (o Options) moduleLoaded(name string) bool {
	_, err := os.Stat(o.path("/sys/module/" + name + "/initstate"))
	return err == nil
}

// moduleFile reports whether a module file exists for the running kernel.
// OpenWrt keeps modules flat in /lib/modules/<release>/; distributions nest
// them, so walk the tree (bounded: it is small on a router).
func (o Options) moduleFile(name string) bool {
	rel := o.release()
	if rel == "" {
		return false
	}
	return findModule(o.path("/lib/modules/"+rel), name)
}

// findModule searches dir and its subdirectories (not following symlinks)
// for the module's file. Unreadable directories are skipped. Directory order
// is fine for a yes/no answer: filepath.WalkDir would sort every listing,
// which costs ~10 KiB of generic sort code on mips for nothing.
func findModule(dir, name string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	for _, e := range entries {
		if !e.IsDir() && isModuleFile(e.Name(), name) {
			return true
		}
	}
	for _, e := range entries {
		if e.IsDir() && findModule(filepath.Join(dir, e.Name()), name) {
			return true
		}
	}
	return false
}

func isModuleFile(file, module string) bool {
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if file == module+ext || file == strings.ReplaceAll(module, "_", "-")+ext {
			return true
		}
	}
	return false
}

// classify turns "the kernel has it" plus module facts into a State.
func (o Options) classify(available bool, module string) State {
	switch {
	case available && o.moduleLoaded(module):
		return Loaded
	case available:
		return Builtin
	case o.moduleFile(module):
		return ModuleNotLoaded
	}
	return Absent
}
