// Package pollcost measures what one LuCI status poll costs a router: the
// page calls ubus `vpnpass status` every 10 s, rpcd starts the exec plugin
// (`vpnpass rpcd call status`, a fresh Go process) which asks the running
// agent over its unix socket. TestPollCost runs a real agent in a test/lab
// router and times that process (user+sys CPU from wait4's rusage, wall time)
// and the agent's own extra CPU per poll. It is a benchmark: it prints
// POLLCOST lines (test/bench-poll.sh turns them into a table) and asserts only
// that every poll answered with a status. It runs only with
// VPNPASS_BENCH_POLL=1, on the host or in the VMs of build/vm/test-vm.sh.
//
// The binary: testdata/vpnpass-linux-<GOARCH>, the release build that
// test/bench-poll.sh cross-compiles there (the VM's initramfs copies every
// testdata directory); without it, the test binary itself, which re-executes
// as the vpnpass CLI (TestMain), and says so.
package pollcost
