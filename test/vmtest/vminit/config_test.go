package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	in := `# written by build/vm/test-vm.sh
halt=reboot
run=TestCt|TestHelper
bench=^BenchmarkToggle$
benchtime=20x
timeout=90s
env=VPNPASS_WRONG_ENDIAN=1
module=kernel/net/netfilter/nf_tables.ko
module=kernel/net/netfilter/nft_ct.ko
sysctl=net/netfilter/nf_conntrack_max=65536
test=netfilter_nft.test netfilter/nft
test=vmtest.test test/vmtest
`
	got, err := parseConfig(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		halt:      "reboot",
		run:       "TestCt|TestHelper",
		bench:     "^BenchmarkToggle$",
		benchtime: "20x",
		timeout:   90 * time.Second,
		env:       []string{"VPNPASS_WRONG_ENDIAN=1"},
		modules:   []string{"kernel/net/netfilter/nf_tables.ko", "kernel/net/netfilter/nft_ct.ko"},
		sysctls:   []string{"net/netfilter/nf_conntrack_max=65536"},
		tests: []testBinary{
			{name: "netfilter_nft.test", dir: "netfilter/nft"},
			{name: "vmtest.test", dir: "test/vmtest"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseConfig:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	got, err := parseConfig(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if got.halt != "poweroff" || got.timeout != 5*time.Minute {
		t.Errorf("defaults: halt=%q timeout=%v, want poweroff 5m0s", got.halt, got.timeout)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, in := range []string{
		"nonsense",
		"halt=sleep",
		"timeout=soon",
		"env=NOVALUE",
		"sysctl=net/netfilter/nf_conntrack_max",
		"test=onlyname",
		"colour=blue",
	} {
		if _, err := parseConfig(strings.NewReader(in)); err == nil {
			t.Errorf("parseConfig(%q): want an error", in)
		}
	}
}
