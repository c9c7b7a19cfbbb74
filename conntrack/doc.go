// Package conntrack watches the kernel's connection tracking for VPN flows,
// groups them into sessions per (LAN host, server, protocol) and diagnoses
// why a VPN through this router works or fails.
//
// The pure part (Flow, Classifier, Tracker, Diagnose, Finding) builds on every
// platform and is fed by tests with synthetic events. The Linux part talks to
// the kernel: Watch (conntrack events over netlink with a kernel-side BPF
// filter, resynchronised from a dump after an overrun), EnableAccounting,
// DeleteFootprints. The observer table `inet vpnpass_watch`, which counts VPN
// packets ahead of the firewall's own filter so attempts the filter drops
// (which never get a conntrack entry) are still seen, is nftables code and
// lives in netfilter/observer; its counts arrive here as ObserverEntry.
//
// Like the other kernel-facing packages it returns wrapped errors naming the
// failed step and never logs.
package conntrack
