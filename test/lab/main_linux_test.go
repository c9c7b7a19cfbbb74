package lab

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// childEnv makes the test binary act as a small child process instead of
// running tests, so the tests need no sleep, readlink or true binaries (a
// big-endian MIPS VM has no busybox at all).
const childEnv = "LAB_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "sleep":
		time.Sleep(10 * time.Minute)
		os.Exit(0)
	case "netns":
		link, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(link)
		os.Exit(0)
	case "exit":
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, os.Getenv(childEnv))
		os.Exit(2)
	}
}

// child prepares the test binary as a child process of kind "sleep",
// "netns" or "exit" to start in a node.
func child(n *Node, kind string) *exec.Cmd {
	cmd := n.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+kind)
	return cmd
}
