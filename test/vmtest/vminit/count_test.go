package main

import "testing"

func TestResultCounts(t *testing.T) {
	out := []string{
		"=== RUN   TestA",
		"--- PASS: TestA (0.00s)",
		"=== RUN   TestB",
		"=== RUN   TestB/sub",
		"    --- SKIP: TestB/sub (0.00s)",
		"--- FAIL: TestB (0.01s)",
		"    x_test.go:12: said --- PASS: inside a log line",
		"--- SKIP: TestC (0.00s)",
		"PASS",
	}
	var r result
	for _, l := range out {
		r.add(l)
	}
	r.finish(1)
	if r.passed != 1 || r.failed != 1 || r.skipped != 2 || r.ok() {
		t.Errorf("counts = %+v ok=%v, want 1 passed, 1 failed, 2 skipped, not ok", r, r.ok())
	}
}

func TestResultFinish(t *testing.T) {
	tests := []struct {
		name       string
		failedSeen int
		exit       int
		wantFailed int
		wantOK     bool
	}{
		{"clean pass", 0, 0, 0, true},
		{"reported failure", 2, 1, 2, false},
		{"panic without FAIL line", 0, 2, 1, false},
		{"killed by the guard", 0, 128, 1, false},
	}
	for _, tt := range tests {
		r := result{passed: 3, failed: tt.failedSeen}
		r.finish(tt.exit)
		if r.failed != tt.wantFailed || r.ok() != tt.wantOK {
			t.Errorf("%s: failed=%d ok=%v, want %d %v", tt.name, r.failed, r.ok(), tt.wantFailed, tt.wantOK)
		}
	}
}

func TestResultLine(t *testing.T) {
	r := result{passed: 4, skipped: 1}
	r.finish(0)
	want := "VMTEST-PKG name=helpers.test result=ok passed=4 failed=0 skipped=1 exit=0 seconds=2.5"
	if got := r.line("helpers.test", 2.5); got != want {
		t.Errorf("line:\n got %s\nwant %s", got, want)
	}
}
