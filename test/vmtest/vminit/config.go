package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// config is what the host wrote into /etc/vmtest.conf, one `key=value` a line:
//
//	halt=poweroff|reboot   how to stop the machine when done
//	run=<regexp>           passed to every test binary as -test.run
//	bench=<regexp>         passed as -test.bench (the benches of test/bench-vm-anchor.sh)
//	benchtime=<value>      passed as -test.benchtime (with bench)
//	timeout=<duration>     -test.timeout per package
//	env=KEY=VALUE          added to the tests' environment (repeatable)
//	module=<path>          module to load, relative to /lib/modules/<release> (repeatable, in order)
//	sysctl=<key>=<value>   written under /proc/sys after the modules are loaded (repeatable)
//	test=<binary> <dir>    test binary under /tests, run in /src/<dir> (repeatable, in order)
type config struct {
	halt      string
	run       string
	bench     string
	benchtime string
	timeout   time.Duration
	env       []string
	modules   []string
	sysctls   []string
	tests     []testBinary
}

// testBinary is one package's compiled tests and the directory `go test`
// would run them in (so testdata/ paths resolve as on the host).
type testBinary struct {
	name string
	dir  string
}

func readConfig(path string) (config, error) {
	f, err := os.Open(path)
	if err != nil {
		return config{}, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return parseConfig(f)
}

func parseConfig(r io.Reader) (config, error) {
	cfg := config{halt: "poweroff", timeout: 5 * time.Minute}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return config{}, fmt.Errorf("config line %d: want key=value, got %q", n, line)
		}
		if err := cfg.set(key, val); err != nil {
			return config{}, fmt.Errorf("config line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return config{}, fmt.Errorf("read config: %w", err)
	}
	return cfg, nil
}

func (c *config) set(key, val string) error {
	switch key {
	case "halt":
		if val != "poweroff" && val != "reboot" {
			return fmt.Errorf("halt must be poweroff or reboot, got %q", val)
		}
		c.halt = val
	case "run":
		c.run = val
	case "bench":
		c.bench = val
	case "benchtime":
		c.benchtime = val
	case "timeout":
		d, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
		c.timeout = d
	case "env":
		if !strings.Contains(val, "=") {
			return fmt.Errorf("env must be KEY=VALUE, got %q", val)
		}
		c.env = append(c.env, val)
	case "module":
		c.modules = append(c.modules, val)
	case "sysctl":
		if !strings.Contains(val, "=") {
			return fmt.Errorf("sysctl must be KEY=VALUE, got %q", val)
		}
		c.sysctls = append(c.sysctls, val)
	case "test":
		name, dir, ok := strings.Cut(val, " ")
		if !ok || name == "" || dir == "" {
			return fmt.Errorf("test must be '<binary> <dir>', got %q", val)
		}
		c.tests = append(c.tests, testBinary{name: name, dir: dir})
	default:
		return fmt.Errorf("unknown key %q", key)
	}
	return nil
}
