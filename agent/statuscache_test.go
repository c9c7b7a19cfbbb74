package agent

import (
	"reflect"
	"testing"

	"github.com/vpnpass/vpnpass/agent/wan"
)

// TestSameNatSeesEveryField: a WAN look that differs in any field (one added
// later included) must not reuse the cached status.
func TestSameNatSeesEveryField(t *testing.T) {
	base := wan.Nat{WANDevice: "eth1", Addresses: []string{"198.51.100.2"}}
	if !sameNat(&base, &base) {
		t.Fatal("a WAN look differs from itself")
	}
	typ := reflect.TypeOf(base)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			other := base
			other.Addresses = append([]string(nil), base.Addresses...)
			v := reflect.ValueOf(&other).Elem().Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Bool:
				v.SetBool(!v.Bool())
			case reflect.Slice:
				v.Set(reflect.Append(v, reflect.ValueOf("x").Convert(v.Type().Elem())))
			case reflect.Struct: // Upstream, Probes: change their first field
				g := v.Field(0)
				switch g.Kind() {
				case reflect.String:
					g.SetString("x")
				case reflect.Pointer:
					g.Set(reflect.New(g.Type().Elem()))
				default:
					t.Fatalf("no way to change %s.%s (%s)", f.Name, v.Type().Field(0).Name, g.Kind())
				}
			default:
				t.Fatalf("no way to change %s (%s): teach this test and sameNat", f.Name, v.Kind())
			}
			if sameNat(&base, &other) {
				t.Errorf("sameNat ignores %s", f.Name)
			}
		})
	}
}
