package ipt

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"
	"golang.org/x/sys/unix"
)

// binaryPath finds the iptables binary of a variant and family:
// iptables-legacy / ip6tables-nft etc. when installed under that name (Debian,
// newer OpenWrt), else plain iptables / ip6tables when it is a link to the
// variant's multi-call binary (OpenWrt's fw3 images: iptables ->
// xtables-legacy-multi).
func binaryPath(variant string, fam vpn.Family) (string, error) {
	base := famName(fam)
	if p, err := exec.LookPath(base + "-" + variant); err == nil {
		return p, nil
	}
	p, err := exec.LookPath(base)
	if err != nil {
		return "", errors.New("find " + base + "-" + variant + ": not installed")
	}
	real, err := followLinks(p)
	if err != nil {
		return "", netfilter.Wrap("find "+base+"-"+variant+": resolve "+p, err)
	}
	if multiVariant(filepath.Base(real)) != variant {
		return "", errors.New("find " + base + "-" + variant + ": not installed (" + p + " is " + filepath.Base(real) + ")")
	}
	return p, nil
}

// followLinks follows p while it is a symbolic link: the file it ends at,
// for its name (filepath.EvalSymlinks gives the same name; it also
// resolves the directories, which the kernel does here, at ~4 KB of mips
// code).
func followLinks(p string) (string, error) {
	for range 255 {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(t, "/") {
			t = p[:strings.LastIndexByte(p, '/')+1] + t // relative to the link's directory
		}
		p = t
	}
	return "", errors.New("too many links")
}

// multiVariant names the variant of a multi-call binary, "" when unknown.
func multiVariant(name string) string {
	for _, m := range multiBinaries {
		if m.name == name {
			return m.variant
		}
	}
	return ""
}

// multiBinaries are the multi-call binaries iptables links to, by variant.
var multiBinaries = [...]struct{ name, variant string }{
	{"xtables-legacy-multi", VariantLegacy}, {"xtables-multi", VariantLegacy},
	{"iptables-multi", VariantLegacy}, {"ip6tables-multi", VariantLegacy},
	{"iptables-legacy", VariantLegacy}, {"ip6tables-legacy", VariantLegacy},
	{"xtables-nft-multi", VariantNft}, {"iptables-nft", VariantNft}, {"ip6tables-nft", VariantNft},
}

// newIPT opens the variant's binary for one family.
func newIPT(variant string, fam vpn.Family, wait int) (*Tool, error) {
	path, err := binaryPath(variant, fam)
	if err != nil {
		return nil, err
	}
	return NewTool(path, wait), nil
}

// legacyNamesFile lists the x_tables tables instantiated in the calling
// thread's network namespace (thread-self: tests run in a namespace entered by
// one locked thread only).
func legacyNamesFile(fam vpn.Family) string {
	name := "ip_tables_names"
	if fam == vpn.IPv6 {
		name = "ip6_tables_names"
	}
	if _, err := os.Stat("/proc/thread-self/net"); err == nil {
		return "/proc/thread-self/net/" + name
	}
	return "/proc/self/net/" + name
}

// legacyTables returns the legacy tables that exist. Listing a legacy table
// with iptables-legacy instantiates it (registering its hooks), so we look
// here first and never list a table that is not there. ok is false when the
// kernel has no x_tables for the family at all.
func legacyTables(fam vpn.Family) (tables map[string]bool, ok bool, err error) {
	b, err := os.ReadFile(legacyNamesFile(fam))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, false, nil
	}
	if err != nil {
		return nil, false, netfilter.Wrap("read legacy tables", err)
	}
	tables = map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(l); t != "" {
			tables[t] = true
		}
	}
	return tables, true, nil
}

// Available reports whether a variant can be used here: its IPv4 binary is
// installed and the kernel answers (x_tables present for legacy, nf_tables
// for nft). It changes nothing in the kernel.
func Available(variant string) bool {
	if checkVariant(variant) != nil {
		return false
	}
	if _, err := binaryPath(variant, vpn.IPv4); err != nil {
		return false
	}
	if variant == VariantLegacy {
		_, ok, err := legacyTables(vpn.IPv4)
		return ok && err == nil
	}
	_, err := nftwire.Tables(0, unix.NFPROTO_IPV4)
	return err == nil
}
