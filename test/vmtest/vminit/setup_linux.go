package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// mountAll mounts what the tests expect of a Linux system: /proc, /sys,
// devtmpfs on /dev, and tmpfs on /dev/shm, /run and /tmp (netns bind-mounts
// live under /run/netns, reached as /var/run/netns through the initramfs's
// symlink; netfilter/nft's BenchmarkToggle keeps its files on /dev/shm).
func mountAll() error {
	mounts := []struct{ fstype, dir string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"},
		{"tmpfs", "/dev/shm"}, {"tmpfs", "/run"}, {"tmpfs", "/tmp"},
	}
	var errs []error
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil && err != unix.EBUSY {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err))
		}
	}
	return errors.Join(errs...)
}

// reopenConsole points stdin/stdout/stderr at /dev/console in case the kernel
// could not open it before devtmpfs was mounted.
func reopenConsole() {
	if _, err := os.Stdout.Stat(); err == nil {
		return
	}
	f, err := os.OpenFile("/dev/console", os.O_RDWR, 0)
	if err != nil {
		return
	}
	for fd := 0; fd <= 2; fd++ {
		_ = unix.Dup2(int(f.Fd()), fd)
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:]) + "/" + unix.ByteSliceToString(u.Machine[:])
}

// loadModules loads the listed modules in order with finit_module. A module
// that is already there is fine; any other failure is reported, not fatal:
// the tests that need it will fail and say why.
func loadModules(mods []string) {
	if len(mods) == 0 {
		return
	}
	dir := filepath.Join("/lib/modules", strings.SplitN(kernelRelease(), "/", 2)[0])
	loaded, failed := 0, 0
	for _, m := range mods {
		if err := loadModule(filepath.Join(dir, m)); err != nil {
			failed++
			fmt.Printf("VMTEST-MODULE %s: %v\n", m, err)
			continue
		}
		loaded++
	}
	fmt.Printf("VMTEST-MODULES loaded=%d failed=%d\n", loaded, failed)
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}

// setSysctls writes "key=value" settings of the guest's initial namespace
// (the VM's own, never the host's). A failure is reported, not fatal.
func setSysctls(kvs []string) {
	for _, kv := range kvs {
		key, val, _ := strings.Cut(kv, "=")
		p := filepath.Join("/proc/sys", key)
		if err := os.WriteFile(p, []byte(val), 0o644); err != nil {
			fmt.Printf("VMTEST-ERROR sysctl %s: %v\n", key, err)
		}
	}
}

// loopbackUp sets IFF_UP on lo in the initial namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// printKernelWarnings prints the kernel log's warnings and worse, for reading
// a failed run (the console shows only errors while the tests run).
func printKernelWarnings() {
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil || n <= 0 {
		return
	}
	buf := make([]byte, n)
	n, err = unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		// Lines look like "<4>[    1.234] text"; levels 0-4 are warning or worse.
		if len(line) > 2 && line[0] == '<' && line[1] >= '0' && line[1] <= '4' {
			fmt.Println("VMTEST-KMSG", line)
		}
	}
}

// halt stops the machine; qemu runs with -no-reboot, so a reboot stops it
// too, which is the fallback when power-off is refused.
func halt(how string) {
	unix.Sync()
	if how == "poweroff" {
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	// Reaching here means both were refused; exiting pid 1 panics the kernel,
	// and panic=-1 with -no-reboot ends qemu.
	os.Exit(1)
}
