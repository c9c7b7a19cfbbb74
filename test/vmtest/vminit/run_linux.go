package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// runTest runs one package's test binary in its source directory, echoes its
// output to the console, counts the outcomes and prints the VMTEST-PKG line.
func runTest(cfg config, tb testBinary) result {
	start := time.Now()
	fmt.Printf("VMTEST-RUN name=%s\n", tb.name)
	// -test.short: the guests check byte order and kernel semantics, not
	// throughput; load tests (the conntrack storm) skip themselves there.
	args := []string{"-test.v", "-test.short", "-test.count=1", "-test.timeout=" + cfg.timeout.String()}
	if cfg.run != "" {
		args = append(args, "-test.run="+cfg.run)
	}
	if cfg.bench != "" {
		args = append(args, "-test.bench="+cfg.bench)
		if cfg.benchtime != "" {
			args = append(args, "-test.benchtime="+cfg.benchtime)
		}
	}
	// The guard outlives -test.timeout so the test binary gets to print its
	// own panic with goroutine stacks first.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("/tests", tb.name), args...)
	cmd.Dir = filepath.Join("/src", tb.dir)
	cmd.Env = testEnv(cfg)
	var r result
	exit := run(cmd, &r)
	r.finish(exit)
	fmt.Println(r.line(tb.name, time.Since(start).Seconds()))
	return r
}

func testEnv(cfg config) []string {
	env := []string{
		"PATH=/bin:/sbin:/usr/bin:/usr/sbin",
		"HOME=/root",
		"TMPDIR=/tmp",
		"VPNPASS_VM=1",
		// Shared fixtures, for test/lab.ReadTestdata.
		"VPNPASS_TESTDATA=/src/test/testdata",
	}
	return append(env, cfg.env...)
}

// run starts cmd with stdout and stderr on one pipe and counts each line.
func run(cmd *exec.Cmd, r *result) int {
	pr, pw, err := os.Pipe()
	if err != nil {
		fmt.Println("VMTEST-ERROR pipe:", err)
		return -1
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		fmt.Println("VMTEST-ERROR start:", err)
		return -1
	}
	echo(pr, r)
	pr.Close()
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() < 0 {
			return 128 // killed by a signal (the guard timeout)
		}
		return ee.ExitCode()
	default:
		fmt.Println("VMTEST-ERROR wait:", err)
		return -1
	}
}

func echo(rd io.Reader, r *result) {
	br := bufio.NewReader(rd)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			os.Stdout.WriteString(line)
			r.add(line)
		}
		if err != nil {
			if line != "" && line[len(line)-1] != '\n' {
				os.Stdout.WriteString("\n")
			}
			return
		}
	}
}
