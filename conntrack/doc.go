// Package conntrack is the kernel layer of flow watching: it watches the
// kernel's connection tracking for VPN flows and hands them on as Flow and
// Event values; the diagnosis (sessions, findings) is package diagnose.
//
// Watch reads conntrack events over netlink with a kernel-side BPF filter
// for the VPN footprints, resynchronised from a dump after an overrun;
// EnableAccounting turns on nf_conntrack_acct; DeleteFootprints deletes the
// entries of changed protocols in one dump. The observer table
// `inet vpnpass_watch`, which counts VPN packets ahead of the firewall's own
// filter so attempts the filter drops (which never get a conntrack entry)
// are still seen, is nftables code and lives in netfilter/observer.
//
// Like the other kernel-facing packages it returns wrapped errors naming the
// failed step and never logs.
package conntrack
