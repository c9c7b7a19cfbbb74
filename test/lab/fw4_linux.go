package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// loadFW4 renders the fixture into the lab's temp dir and loads it with
// `nft -f` inside the router.
func (l *Lab) loadFW4(locked bool) error {
	fixture, err := ReadTestdata("fw4-default.nft")
	if err != nil {
		return err
	}
	userInclude := filepath.Join(l.tmpDir, "nftables.d")
	if err := os.MkdirAll(userInclude, 0o755); err != nil {
		return err
	}
	text, err := renderFW4(string(fixture), l.WANDevice, userInclude, l.Config.FW4IncludeDir, locked)
	if err != nil {
		return err
	}
	l.fw4File = filepath.Join(l.tmpDir, "fw4.nft")
	if err := os.WriteFile(l.fw4File, []byte(text), 0o644); err != nil {
		return err
	}
	return l.ReloadFW4()
}

// FW4Ruleset is the path of the rendered fw4 ruleset ("" without fw4).
func (l *Lab) FW4Ruleset() string { return l.fw4File }

// ReloadFW4 runs `nft -f` of the rendered fw4 ruleset again. The file
// starts with `flush table inet fw4`, so this is what `fw4 reload` does to
// the kernel: our rules in fw4's chains vanish unless an include renders
// them back. Like fw4 (fw4.uc: fs.glob, then fs.access), the chain-pre
// include is resolved at each load into one `include` per file that can
// be read: a dangling symlink is skipped, not an error.
func (l *Lab) ReloadFW4() error {
	if l.fw4File == "" {
		return fmt.Errorf("lab %s has no fw4 firewall", l.Name)
	}
	file := l.fw4File
	if dir := l.Config.FW4IncludeDir; dir != "" {
		text, err := os.ReadFile(l.fw4File)
		if err != nil {
			return err
		}
		file = l.fw4File + ".now"
		if err := os.WriteFile(file, []byte(resolveIncludes(string(text), dir)), 0o644); err != nil {
			return err
		}
	}
	_, err := l.Router.Run("nft", "-f", file)
	return err
}

// resolveIncludes replaces the rendered `include "<dir>/*.nft"` with one
// include per readable file, in glob order, as fw4 renders them.
func resolveIncludes(text, dir string) string {
	glob := fmt.Sprintf("include %q", filepath.Join(dir, "*.nft"))
	paths, _ := filepath.Glob(filepath.Join(dir, "*.nft"))
	sort.Strings(paths)
	var lines []string
	for _, p := range paths {
		if f, err := os.Open(p); err == nil { // follows the symlink: fs.access
			f.Close()
			lines = append(lines, fmt.Sprintf("include %q", p))
		}
	}
	return strings.ReplaceAll(text, glob, strings.Join(lines, "\n\t\t"))
}
