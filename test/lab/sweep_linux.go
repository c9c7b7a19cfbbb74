package lab

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netns"
)

// NetnsDir is where named namespaces are bind-mounted (as `ip netns` does).
const NetnsDir = "/run/netns"

// labNS matches this package's namespace names: vp<pid>-<hex>-<role>.
var labNS = regexp.MustCompile(`^` + NamePrefix + `([0-9]+)-([0-9a-f]{4})-(lan|lan2|rtr|isp|inet)$`)

// ListNamespaces returns the named lab namespaces that exist now (of any
// process), sorted.
func ListNamespaces() ([]string, error) {
	ents, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if labNS.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Sweep removes the namespaces left behind by labs whose creating process
// is dead (killed tests, crashed demos) and kills what still runs inside
// them. It never touches namespaces of living processes or names that do
// not follow the lab's pattern. It returns the names removed.
func Sweep() ([]string, error) {
	names, err := ListNamespaces()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, name := range names {
		pid, _ := strconv.Atoi(labNS.FindStringSubmatch(name)[1])
		if pidAlive(pid) {
			continue
		}
		killInNamespace(name)
		if err := netns.DeleteNamed(name); err != nil {
			errs = append(errs, fmt.Errorf("delete netns %s: %w", name, err))
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// killInNamespace kills processes whose network namespace is the named one
// (a charon or a server started by a lab that died).
func killInNamespace(name string) {
	target, err := os.Stat(NetnsDir + "/" + name)
	if err != nil {
		return
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		st, err := os.Stat("/proc/" + p.Name() + "/ns/net")
		if err == nil && os.SameFile(st, target) {
			if proc, err := os.FindProcess(pid); err == nil {
				_ = proc.Kill()
			}
		}
	}
}

// belongsTo reports whether a namespace name is one of lab prefix's.
func belongsTo(name, labName string) bool {
	return strings.HasPrefix(name, labName+"-")
}
