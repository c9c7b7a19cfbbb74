package nfteval

import (
	"errors"
	"strconv"

	"github.com/vpnpass/vpnpass/netfilter"

	"encoding/binary"
	"syscall"

	"github.com/google/nftables/binaryutil"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// wire is our own nfnetlink socket in the Conn's namespace: rules, sets,
// elements, objects and flowtables are dumped for all families at once, and
// decoded without losing what the library would drop. Replies are read
// straight into one large buffer and handed to a callback, one recvmsg per
// kernel batch (the generic receive path peeks at every batch with growing
// buffers first, which doubles the system calls of a 10k-rule dump).
type wire struct {
	c   *netlink.Conn
	raw syscall.RawConn
	buf []byte
}

// wireBuffer holds any dump batch: the kernel fills at most 32 KiB per
// batch (netlink's max_recvmsg_len).
const wireBuffer = 64 << 10

func openWire(netns, bufSize int) (*wire, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &wire{c: c, raw: raw, buf: make([]byte, bufSize)}, nil
}

func (w *wire) close() { _ = w.c.Close() }

// request sends one nftables request (a dump unless single) and hands each
// reply to fn. Replies point into the receive buffer: fn must copy what it
// keeps (the attribute decoder's Bytes and String do).
func (w *wire) request(typ uint16, fam byte, attrs []netlink.Attribute, single bool, fn func(netlink.Message) error) error {
	data := []byte{fam, unix.NFNETLINK_V0, 0, 0}
	if len(attrs) > 0 {
		b, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return err
		}
		data = append(data, b...)
	}
	flags := netlink.Request | netlink.Dump
	if single {
		flags = netlink.Request
	}
	req, err := w.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: flags},
		Data:   data,
	})
	if err != nil {
		return err
	}
	for {
		n, err := w.recv()
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(w.buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Header.Sequence {
				continue // a stale reply to an earlier request
			}
			done, err := reply(m, fn)
			if done || err != nil {
				return err
			}
		}
	}
}

// reply handles one message: data for fn, or the end of the reply.
func reply(m syscall.NetlinkMessage, fn func(netlink.Message) error) (done bool, err error) {
	switch m.Header.Type {
	case unix.NLMSG_DONE, unix.NLMSG_ERROR:
		// Both carry an errno (negative, host order); 0 ends a dump or
		// acknowledges.
		if len(m.Data) >= 4 {
			if e := int32(binaryutil.NativeEndian.Uint32(m.Data[:4])); e < 0 {
				return true, unix.Errno(-e)
			}
		}
		return true, nil
	}
	err = fn(netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(m.Header.Type),
		Flags: netlink.HeaderFlags(m.Header.Flags), Sequence: m.Header.Seq, PID: m.Header.Pid}, Data: m.Data})
	return m.Header.Flags&unix.NLM_F_MULTI == 0 || err != nil, err
}

// recv reads one batch of replies through the runtime's poller.
func (w *wire) recv() (int, error) {
	var n int
	var rerr error
	err := w.raw.Read(func(fd uintptr) bool {
		n, _, _, _, rerr = unix.Recvmsg(int(fd), w.buf, nil, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN && rerr != unix.EWOULDBLOCK
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	case n > len(w.buf):
		return 0, errors.New("netlink reply of " + strconv.Itoa(n) + " bytes truncated")
	}
	return n, nil
}

// each runs a request and hands fn a decoder over each reply's attributes,
// with the reply's family.
func (w *wire) each(typ uint16, fam byte, attrs []netlink.Attribute, single bool, fn func(*netlink.AttributeDecoder, byte) error) error {
	return w.request(typ, fam, attrs, single, func(m netlink.Message) error {
		ad, fam, err := decoder(m)
		if err != nil {
			return err
		}
		if err := fn(ad, fam); err != nil {
			return err
		}
		return ad.Err()
	})
}

// decoder returns an attribute decoder over a reply's attributes, and the
// reply's family.
func decoder(m netlink.Message) (*netlink.AttributeDecoder, byte, error) {
	if len(m.Data) < 4 {
		return nil, 0, errors.New("short nfnetlink message (" + strconv.Itoa(len(m.Data)) + " bytes)")
	}
	ad, err := netlink.NewAttributeDecoder(m.Data[4:])
	if err != nil {
		return nil, 0, err
	}
	ad.ByteOrder = binary.BigEndian
	return ad, m.Data[0], nil
}

// generation returns the ruleset generation, which every committed
// transaction bumps: equal before and after a read means a consistent read.
func (w *wire) generation() (uint32, error) {
	gen, found := uint32(0), false
	err := w.each(unix.NFT_MSG_GETGEN, unix.AF_UNSPEC, nil, true, func(ad *netlink.AttributeDecoder, _ byte) error {
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				gen, found = ad.Uint32(), true
			}
		}
		return nil
	})
	if err == nil && !found {
		err = errors.New("no generation in reply")
	}
	return gen, err
}

// links maps device names to indexes in the namespace (RTM_GETLINK dump).
func links(netns int) (map[string]uint32, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint32, len(msgs))
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		// ifinfomsg: family, pad, type (u16), index (int, host order), ...
		index := binaryutil.NativeEndian.Uint32(m.Data[4:8])
		ad, err := netlink.NewAttributeDecoder(m.Data[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == unix.IFLA_IFNAME {
				out[ad.String()] = index
			}
		}
	}
	return out, nil
}

// familyName spells a table family as nft does.
func familyName(f byte) string { return netfilter.NFTFamilyName(uint8(f)) }
