package agent

import (
	"reflect"
	"sort"
	"testing"

	"github.com/vpnpass/vpnpass/agent/api"
)

// TestDaemonServesContract: the daemon serves exactly the contract's
// methods (api.Methods), so `rpcd list`, the ACLs and the server agree.
func TestDaemonServesContract(t *testing.T) {
	var want []string
	for _, s := range api.Methods {
		want = append(want, s.Name)
	}
	sort.Strings(want)
	if got := (&Daemon{}).server().Methods(); !reflect.DeepEqual(got, want) {
		t.Errorf("the daemon serves %v, the contract has %v", got, want)
	}
}
