package openwrt

import (
	"os"
	"path/filepath"
	"strings"
)

// fw4Commit names the firewall4 commit that ran, from the COMMITS file the
// userland build writes beside its root ("firewall4 <sha> <date>").
func fw4Commit(r *fw4Rig) string {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(r.rt.root), "COMMITS"))
	if err != nil {
		return "(commit unknown: " + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "firewall4" {
			return "firewall4 " + strings.Join(f[1:], " ")
		}
	}
	return "(commit unknown: no firewall4 line in COMMITS)"
}
