// Command forbidden links what the rules that need a module's packages
// forbid, so sizerules_test.go can check that they catch it.
package main

import (
	"os"
	"time"

	"golang.org/x/net/bpf"
)

func main() {
	prog, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 1}})
	t, _ := time.Parse(time.RFC3339, os.Args[0])
	d, _ := time.ParseDuration(os.Args[0])
	os.Exit(len(prog) + t.Second() + int(d))
}
