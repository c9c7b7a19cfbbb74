package agent

import (
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
	"syscall"

	"github.com/vpnpass/vpnpass/agent/history"
)

// CtNetlinkPackage is the OpenWrt package with the kernel's conntrack
// netlink interface (nf_conntrack_netlink). It is not in default images;
// without it the kernel answers every conntrack request with EINVAL
// (nfnetlink has no such subsystem) and sends no events at all.
const CtNetlinkPackage = "kmod-nf-conntrack-netlink"

// ctNetlinkMissing tells whether err is the kernel's answer without
// nf_conntrack_netlink.
func ctNetlinkMissing(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EPROTONOSUPPORT)
}

// ctNetlinkMessage is the one message a user sees about it.
const ctNetlinkMessage = "The kernel's connection-tracking interface is missing: install " + CtNetlinkPackage +
	" (opkg install " + CtNetlinkPackage + ", or apk add " + CtNetlinkPackage + " on 25.x). Until then " +
	"passthrough still works, but vpnpass cannot see VPN connections (no diagnosis) and cannot end " +
	"connections that a mode change should cut."

// tolerateNoCtNetlink wraps the flow-forgetting step of mode changes: without
// conntrack netlink a mode change must not fail (the rules are in place;
// only old flows live on), and the cause is said once, naming the package.
func (d *Daemon) tolerateNoCtNetlink(forget func([]vpn.Protocol) error) func([]vpn.Protocol) error {
	return func(ps []vpn.Protocol) error {
		err := forget(ps)
		if err != nil && ctNetlinkMissing(err) {
			d.noteNoCtNetlink()
			return nil
		}
		return err
	}
}

// noteNoCtNetlink logs and records the missing package once per agent run.
func (d *Daemon) noteNoCtNetlink() {
	if !d.noCtNetlink.CompareAndSwap(false, true) {
		return
	}
	d.log.Error(ctNetlinkMessage, "package", CtNetlinkPackage)
	d.record(&history.Event{Kind: history.KindError, Severity: vpn.SeverityError,
		Message: ctNetlinkMessage, Details: details("package", CtNetlinkPackage)})
}
