//go:build !linux

// Command vminit is the /init of the Linux test VMs; it exists only on Linux.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "vminit: Linux only")
	os.Exit(2)
}
