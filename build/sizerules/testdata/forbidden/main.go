// Command forbidden links what the rules that need a module's packages
// forbid, so sizerules_test.go can check that they catch it.
package main

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/net/bpf"
)

func main() {
	prog, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 1}})
	t, _ := time.Parse(time.RFC3339, os.Args[0])
	d, _ := time.ParseDuration(os.Args[0])
	var pe *fs.PathError
	if errors.As(os.Chdir(os.Args[0]), &pe) {
		os.Exit(9)
	}
	os.Exit(len(prog) + t.Second() + int(d))
}
