package agent

import (
	"testing"

	"github.com/vpnpass/vpnpass/helpers"
)

func TestHelperCacheProbesOnce(t *testing.T) {
	calls := 0
	c := &helperCache{probe: func() (helpers.Report, error) {
		calls++
		return helpers.Report{PPTP: helpers.Info{State: helpers.Builtin}}, nil
	}}
	for i := 0; i < 3; i++ {
		if rep, err := c.get(); err != nil || rep.PPTP.State != helpers.Builtin {
			t.Fatalf("get = %+v, %v", rep, err)
		}
	}
	if calls != 1 {
		t.Fatalf("probed %d times, want once", calls)
	}
	c.forget()
	if _, _ = c.get(); calls != 2 {
		t.Fatalf("after forget probed %d times, want 2", calls)
	}
}
