// Command vminit is the /init of the minimal VMs that `make test-vm` boots
// under qemu-system (build/vm/test-vm.sh). It mounts the pseudo file systems,
// loads the kernel modules the host listed, brings up loopback, runs every
// test binary of the initramfs with -test.v, prints one parseable line per
// package and a summary, and powers the machine off so qemu exits.
//
// The lines the host parses:
//
//	VMTEST-PKG name=<pkg> result=ok|FAIL passed=N failed=M skipped=K exit=E seconds=S
//	VMTEST-SUMMARY packages=P failed_packages=F passed=N failed=M skipped=K seconds=S
//
// It is a Go program rather than a busybox script because big-endian MIPS has
// no busybox-static in Debian; the same init serves every target.
package main

import (
	"fmt"
	"os"
	"time"
)

const configPath = "/etc/vmtest.conf"

func main() {
	start := time.Now()
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "vminit: must run as /init (pid 1) inside the test VM")
		os.Exit(2)
	}
	if err := mountAll(); err != nil {
		fmt.Println("VMTEST-ERROR", err)
	}
	reopenConsole()
	cfg, err := readConfig(configPath)
	if err != nil {
		fmt.Println("VMTEST-ERROR", err)
		halt("reboot")
	}
	fmt.Printf("VMTEST-BOOT kernel=%s tests=%d\n", kernelRelease(), len(cfg.tests))
	loadModules(cfg.modules)
	setSysctls(cfg.sysctls)
	if err := loopbackUp(); err != nil {
		fmt.Println("VMTEST-ERROR loopback:", err)
	}
	var sum result
	failedPkgs := 0
	for _, tb := range cfg.tests {
		r := runTest(cfg, tb)
		sum.passed += r.passed
		sum.failed += r.failed
		sum.skipped += r.skipped
		if !r.ok() {
			failedPkgs++
		}
	}
	if failedPkgs > 0 {
		printKernelWarnings()
	}
	fmt.Printf("VMTEST-SUMMARY packages=%d failed_packages=%d passed=%d failed=%d skipped=%d seconds=%.1f\n",
		len(cfg.tests), failedPkgs, sum.passed, sum.failed, sum.skipped, time.Since(start).Seconds())
	halt(cfg.halt)
}
