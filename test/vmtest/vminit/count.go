package main

import (
	"fmt"
	"regexp"
)

// result counts the outcomes of one package's tests, subtests included (as
// gotestsum counts them), and keeps the binary's exit code.
type result struct {
	passed, failed, skipped int
	exit                    int
}

func (r result) ok() bool { return r.exit == 0 && r.failed == 0 }

// outcomeLine matches the lines `-test.v` prints when a test or subtest ends.
var outcomeLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): `)

// add counts one line of -test.v output.
func (r *result) add(line string) {
	m := outcomeLine.FindStringSubmatch(line)
	if m == nil {
		return
	}
	switch m[1] {
	case "PASS":
		r.passed++
	case "FAIL":
		r.failed++
	case "SKIP":
		r.skipped++
	}
}

// finish records the exit code. A binary that failed without reporting a
// failing test (panic, timeout, TestMain exit) still counts one failure, so
// the summary can never read "0 failed" for a package that did not pass.
func (r *result) finish(exit int) {
	r.exit = exit
	if exit != 0 && r.failed == 0 {
		r.failed = 1
	}
}

func (r result) line(name string, seconds float64) string {
	status := "ok"
	if !r.ok() {
		status = "FAIL"
	}
	return fmt.Sprintf("VMTEST-PKG name=%s result=%s passed=%d failed=%d skipped=%d exit=%d seconds=%.1f",
		name, status, r.passed, r.failed, r.skipped, r.exit, seconds)
}
