// Package truth compares the firewall inspection with what the kernel
// really does: it loads a ruleset into a lab router, sends the first packet
// of every footprint element (UDP 500/4500/1701, TCP 1723, ESP, GRE, AH;
// IPv4 and IPv6) from both LAN hosts, records the router's verdict
// (counted at the server: accept; a TCP reset or ICMP unreachable seen by
// the host: reject; neither: drop) and checks every element of the
// inspection against it. Used by the corpus test (netfilter/fw, `make
// test`) and by the fw4 test-suite corpus (test/openwrt).
package truth
