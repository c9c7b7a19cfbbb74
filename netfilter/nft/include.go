package nft

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vpnpass/vpnpass/netfilter"
)

// includeHeader opens the fw4 include file. fw4 pastes the file inside its
// `chain forward { ... }`, so the file holds rules only.
const includeHeader = "# Written by vpnpass: LAN->WAN VPN passthrough, ahead of fw4's forward rules.\n" +
	"# Regenerated on every change; edits are lost. Remove with `vpnpass cleanup`.\n"

// usesInclude tells whether fw4 will render our include when it (re)loads:
// fw4 with auto_includes, installed as a package (its nftables.d directory
// exists under Root). That holds also while fw4 is not running (kind
// nftables: the firewall starts after us at boot, or was stopped): the
// include is kept current so fw4's first render already carries our allows.
// Without the package nothing would ever read the file, so we write none:
// no files outside fw4's own tree on a plain distribution.
func (c config) usesInclude() bool {
	if (c.kind != netfilter.KindFW4 && c.kind != netfilter.KindNftables) || !c.autoIncludes {
		return false
	}
	fi, err := os.Stat(filepath.Join(c.root, NftablesDir))
	return err == nil && fi.IsDir()
}

// includeState compares the include file and its symlink with want ("" =
// no file). It reports what must change, without changing anything.
func (c config) includeState(want string) (writeFile, removeFile, fixLink bool, err error) {
	got, err := os.ReadFile(c.includeFile())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		got, err = nil, nil
		writeFile = want != ""
	case err != nil:
		return false, false, false, fmt.Errorf("read %s: %w", c.includeFile(), err)
	case want == "":
		removeFile = true
	default:
		writeFile = !bytes.Equal(got, []byte(want))
	}
	if want != "" {
		target, lerr := os.Readlink(c.includeSymlink())
		fixLink = lerr != nil || target != c.includeFile()
	}
	return writeFile, removeFile, fixLink, nil
}

// nftBinary is the nft used to check include text; "" when none is
// installed (then the typed rendering alone vouches for the text).
var nftBinary = func() string {
	p, err := exec.LookPath("nft")
	if err != nil {
		return ""
	}
	return p
}

// checked remembers texts `nft -c` accepted in this process, so toggling
// between states already seen does not run nft again (a fork and exec costs
// more than the whole netlink transaction). The key is the text itself: a
// few hundred bytes for each of the few states, and crypto/sha256 would link
// Go's FIPS module (~110 KiB on mips) just for this.
var checked sync.Map // text -> struct{}

// checkInclude asks `nft -c` whether path is a valid chain body, by including
// it from a throw-away table that is never committed. Only the exit status
// is used.
func checkInclude(path string) error {
	bin := nftBinary()
	if bin == "" {
		return nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if _, ok := checked.Load(string(text)); ok {
		return nil
	}
	wrapper := path + ".check"
	wrap := fmt.Sprintf("table inet %s_check {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\tinclude %q\n\t}\n}\n",
		netfilter.TablePrefix, path)
	if err := os.WriteFile(wrapper, []byte(wrap), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", wrapper, err)
	}
	defer os.Remove(wrapper)
	cmd := exec.Command(bin, "-c", "-f", wrapper)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft -c rejects the include text: %w", err)
	}
	checked.Store(string(text), struct{}{})
	return nil
}

// writeInclude validates text and puts it in place atomically: a temp file
// in the same directory, checked, synced, then renamed over the old one. A
// file nft rejects is never put in place (it would abort fw4's whole render).
func (c config) writeInclude(text string) error {
	dst := c.includeFile()
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".fw4-forward-*.nft")
	if err != nil {
		return fmt.Errorf("create temp include: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	_, werr := f.WriteString(text)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write temp include %s: %w", tmp, werr)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := checkInclude(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, dst, err)
	}
	return nil
}

// ensureSymlink points the package's symlink at the include file, replacing
// whatever else is there (the path is ours: 10-vpnpass.nft).
func (c config) ensureSymlink() error {
	link := c.includeSymlink()
	if target, err := os.Readlink(link); err == nil && target == c.includeFile() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(link), err)
	}
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(c.includeFile(), tmp); err != nil {
		return fmt.Errorf("symlink %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, link, err)
	}
	return nil
}

// isTemp matches the temp files of writeInclude (and their `.check`
// wrappers) that a process killed midway leaves behind: the glob
// ".fw4-forward-*.nft*", without filepath.Match (~4 KB on mips).
func isTemp(name string) bool {
	rest, ok := strings.CutPrefix(name, ".fw4-forward-")
	return ok && strings.Contains(rest, ".nft")
}

// removeTemps deletes leftovers of an interrupted writeInclude.
func (c config) removeTemps() error {
	// Not filepath.Glob: its generic string sort costs ~12 KiB on mips. Like
	// Glob, an unreadable directory lists nothing.
	dir := filepath.Dir(c.includeFile())
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		if !isTemp(n) {
			continue
		}
		f := filepath.Join(dir, n)
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
	}
	return nil
}

// removeInclude deletes the include file; the symlink stays (it belongs to
// the package, and fw4 skips it while it dangles).
func (c config) removeInclude() error {
	if err := os.Remove(c.includeFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", c.includeFile(), err)
	}
	return nil
}
