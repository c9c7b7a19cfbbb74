package nftwire

import (
	"errors"
	"fmt"
	"os"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Dial opens a netfilter netlink socket in namespace netns (0: the calling
// thread's), for Send.
func Dial(netns int) (*netlink.Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("dial netfilter netlink: %w", err)
	}
	return c, nil
}

// Messages returns the batch framed by BATCH_BEGIN and BATCH_END, as Send
// sends it (tests compare it with the library's).
func (b *Batch) Messages() []netlink.Message {
	out := append([]netlink.Message{batchBegin}, b.msgs...)
	return append(out, batchEnd)
}

// The frame of a batch (static data: no code builds them).
var (
	batchBegin = netlink.Message{Header: netlink.Header{Type: unix.NFNL_MSG_BATCH_BEGIN, Flags: netlink.Request},
		Data: []byte{0, unix.NFNETLINK_V0, 0, unix.NFNL_SUBSYS_NFTABLES}}
	batchEnd = netlink.Message{Header: netlink.Header{Type: unix.NFNL_MSG_BATCH_END, Flags: netlink.Request},
		Data: []byte{0, unix.NFNETLINK_V0, 0, unix.NFNL_SUBSYS_NFTABLES}}
)

// Send sends the batch over c as one transaction and reads the kernel's
// answer to every message: nil when the kernel applied it all, otherwise
// the errors of the messages it refused (it then applied nothing). An
// empty batch sends nothing. The batch is emptied either way.
func (b *Batch) Send(c *netlink.Conn) error {
	msgs, err := b.Messages(), b.err
	*b = Batch{}
	if err != nil {
		return err
	}
	if len(msgs) == 2 {
		return nil
	}
	if _, err := c.SendMessages(msgs); err != nil {
		return fmt.Errorf("send batch: %w", err)
	}
	return receiveAcks(c, len(msgs)-2)
}

// receiveAcks reads n acknowledgements (every message asks for one; an
// error is one too), skipping the echoes of added rules. As with the
// library, a permission error or an overrun ends the wait at once: the
// kernel sends no more.
func receiveAcks(c *netlink.Conn, n int) error {
	var errs error
	for n > 0 {
		got, err := c.Receive()
		if err != nil {
			if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.ENOBUFS) {
				return err
			}
			errs = errors.Join(errs, err)
			n--
			continue
		}
		for _, m := range got {
			if m.Header.Type == netlink.Error {
				n--
			}
		}
	}
	if errs != nil {
		return fmt.Errorf("conn.Receive: %w", errs)
	}
	return nil
}

// SendIn sends the batch on a socket of its own in namespace netns (0: the
// calling thread's).
func (b *Batch) SendIn(netns int) error {
	c, err := Dial(netns)
	if err != nil {
		return err
	}
	defer c.Close()
	return b.Send(c)
}
