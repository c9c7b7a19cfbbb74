// Command forbidden links what the rules that need a module's packages
// forbid, so sizerules_test.go can check that they catch it.
package main

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
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
	sort.Slice(os.Args, func(i, j int) bool { return os.Args[i] < os.Args[j] })
	ok, _ := filepath.Match(os.Args[0], os.Args[1])
	tag := reflect.TypeOf(struct {
		A int `json:"a"`
	}{}).Field(0).Tag.Get(os.Args[0])
	if ok || tag != "" {
		os.Exit(8)
	}
	if f, _ := strconv.ParseFloat(os.Args[0], 64); f == 2 {
		os.Exit(6)
	}
	if bufio.NewScanner(os.Stdin).Scan() {
		os.Exit(7)
	}
	os.Exit(len(prog) + t.Second() + int(d))
}
