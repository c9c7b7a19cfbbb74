package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ctGet is IPCTNL_MSG_CT_GET (linux/netfilter/nfnetlink_conntrack.h); with
// the dump flag it asks for the whole table.
const ctGet = 1

// dumpReadSize is the buffer of one read of the dump. The kernel fills
// each read with whole messages up to about a page (NLMSG_GOODSIZE), so
// 32 KiB never truncates one.
const dumpReadSize = 32 << 10

// dumpEach streams the conntrack table of the namespace netns (0: the
// calling thread's) to fn, one read of the kernel's dump at a time: memory
// stays one buffer and one flow whatever the table size. ti-mo's Dump
// held the whole table twice (its messages, then its flows): on a 65k
// table that was over 100 MiB for an agent meant to live in 10 (issue 15).
// fn must not block for long: the kernel holds the rest of the dump.
func dumpEach(netns int, fn func(*Flow) error) error {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return fmt.Errorf("open conntrack dump socket: %w", err)
	}
	defer c.Close()
	sent, err := c.Send(ctMessage(ctGet, netlink.Request|netlink.Dump, unix.AF_UNSPEC, nil))
	if err != nil {
		return fmt.Errorf("send conntrack dump request: %w", err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("conntrack dump socket: %w", err)
	}
	buf := make([]byte, dumpReadSize)
	for {
		n, err := recvOnce(rc, buf)
		if err != nil {
			return fmt.Errorf("read conntrack dump: %w", err)
		}
		done, err := dumpMessages(buf[:n], sent.Header.Sequence, fn)
		if err != nil || done {
			return err
		}
	}
}

// recvOnce reads one datagram, waiting in the runtime's poller.
func recvOnce(rc syscall.RawConn, buf []byte) (int, error) {
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// dumpMessages hands the flows of one read to fn; done is the dump's end.
func dumpMessages(b []byte, seq uint32, fn func(*Flow) error) (done bool, err error) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return false, fmt.Errorf("parse conntrack dump: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Seq != seq {
			continue // not ours (a late answer to something else)
		}
		switch m.Header.Type {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
					return true, fmt.Errorf("conntrack dump: %w", unix.Errno(-code))
				}
			}
			return true, nil
		}
		_, f, err := decodeMessage(m.Header.Type, m.Header.Flags, m.Data)
		if err != nil {
			continue // not a flow (cannot happen for a CT_GET dump); skip rather than abort
		}
		if err := fn(&f); err != nil {
			return true, err
		}
	}
	return false, nil
}
