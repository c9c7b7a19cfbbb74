// Package vmtest holds the tests written for the foreign-kernel VMs of
// `make test-vm` (build/vm/test-vm.sh), and the VMs' /init (./vminit).
//
// Its test TestCtStateMaskByteOrder proves that the VMs catch the bug class
// they exist for: a host-endian nftables field encoded in the wrong byte order.
// With VPNPASS_WRONG_ENDIAN=1 the test encodes the `ct state` mask
// little-endian on every machine; that must still pass on x86 and mipsel and
// must fail on the big-endian s390x and mips kernels. Without the toggle (the
// default) it passes everywhere.
package vmtest
