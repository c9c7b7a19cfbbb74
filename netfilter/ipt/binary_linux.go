package ipt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vpnpass/vpnpass/internal/lines"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"
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
		return "", fmt.Errorf("find %s-%s: not installed", base, variant)
	}
	real, err := followLinks(p)
	if err != nil {
		return "", fmt.Errorf("find %s-%s: resolve %s: %w", base, variant, p, err)
	}
	if multiVariant(filepath.Base(real)) != variant {
		return "", fmt.Errorf("find %s-%s: not installed (%s is %s)", base, variant, p, filepath.Base(real))
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
	switch name {
	case "xtables-legacy-multi", "xtables-multi", "iptables-multi", "ip6tables-multi",
		"iptables-legacy", "ip6tables-legacy":
		return VariantLegacy
	case "xtables-nft-multi", "iptables-nft", "ip6tables-nft":
		return VariantNft
	}
	return ""
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
	f, err := os.Open(legacyNamesFile(fam))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read legacy tables: %w", err)
	}
	defer f.Close()
	tables = map[string]bool{}
	if err := lines.Each(f, func(l string) {
		if t := strings.TrimSpace(l); t != "" {
			tables[t] = true
		}
	}); err != nil {
		return nil, false, fmt.Errorf("read legacy tables: %w", err)
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
	c, err := nftables.New()
	if err != nil {
		return false
	}
	_, err = c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	return err == nil
}
