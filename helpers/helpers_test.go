package helpers

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		available bool
		files     []string
		want      State
	}{
		{"built in: no sysfs entry", true, nil, Builtin},
		{"built in with params: sysfs entry but no initstate", true, []string{"sys/module/nf_conntrack_pptp/parameters/x"}, Builtin},
		{"loaded module", true, []string{"sys/module/nf_conntrack_pptp/initstate"}, Loaded},
		{"module file, OpenWrt flat layout", false, []string{"lib/modules/6.6.1/nf_conntrack_pptp.ko"}, ModuleNotLoaded},
		{"module file, distro layout compressed", false, []string{"lib/modules/6.6.1/kernel/net/netfilter/nf_conntrack_pptp.ko.xz"}, ModuleNotLoaded},
		{"module for another kernel only", false, []string{"lib/modules/5.4.0/nf_conntrack_pptp.ko"}, Absent},
		{"nothing", false, nil, Absent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(root, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			o := Options{Root: root, Release: "6.6.1"}
			if got := o.classify(tc.available, ModulePPTP); got != tc.want {
				t.Fatalf("classify = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLoadRefusesUnknownModules(t *testing.T) {
	if err := Load("evil; rm -rf /"); err == nil {
		t.Fatal("Load accepted a module outside its fixed list")
	}
}
