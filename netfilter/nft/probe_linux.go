package nft

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mdlayher/netlink"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"golang.org/x/sys/unix"
)

// ProbeTablePrefix names the throw-away tables of ProbeCtHelper; the pid of
// the probing process follows it.
const ProbeTablePrefix = "vpnpass_probe_"

// ProbeCtHelper reports whether the kernel of the calling thread's network
// namespace can assign the ct helper name (l4 is its IP protocol): it
// creates a ct helper object in a throw-away table `inet vpnpass_probe_<pid>`
// and the kernel refuses it with ENOENT when the helper is not registered
// (built in or loaded). A probe killed mid-way leaves its table behind;
// RemoveProbeTables removes it.
func ProbeCtHelper(name string, l4 uint8) (bool, error) {
	conn, err := nftwire.Dial(0)
	if err != nil {
		return false, fmt.Errorf("probe ct helper %s: open nftables netlink: %w", name, err)
	}
	defer conn.Close()
	t := ProbeTablePrefix + strconv.Itoa(os.Getpid())
	var b nftwire.Batch
	b.AddTable(unix.NFPROTO_INET, t)
	b.AddCtHelper(unix.NFPROTO_INET, t, "vpnpass_probe", name, unix.NFPROTO_IPV4, l4)
	flushErr := b.Send(conn)
	// The table exists only if the batch went through; remove it either way
	// (a failed batch is rolled back by the kernel, so this may say ENOENT).
	b.DelTable(unix.NFPROTO_INET, t)
	_ = b.Send(conn)
	switch {
	case flushErr == nil:
		return true, nil
	case errors.Is(flushErr, unix.ENOENT), errors.Is(flushErr, unix.EOPNOTSUPP):
		return false, nil
	case errors.Is(flushErr, unix.EPERM):
		return false, fmt.Errorf("probe ct helper %s: no permission (run as root): %w", name, flushErr)
	}
	return false, fmt.Errorf("probe ct helper %s: %w", name, flushErr)
}

// RemoveProbeTables removes every table named ProbeTablePrefix*, in any
// family and of any pid: a live probe loses nothing (its own removal then
// finds the table gone, which it ignores). Each table goes in a batch of its
// own, so one that vanished meanwhile cannot fail the others.
func RemoveProbeTables() error {
	tables, err := nftwire.Tables(0, unix.NFPROTO_UNSPEC)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil // no nf_tables in this kernel: no probe table either
		}
		return fmt.Errorf("remove probe tables: list tables: %w", err)
	}
	var errs []error
	var w *netlink.Conn
	for _, t := range tables {
		if !strings.HasPrefix(t.Name, ProbeTablePrefix) {
			continue
		}
		if w == nil {
			if w, err = nftwire.Dial(0); err != nil {
				return fmt.Errorf("remove probe tables: open nftables netlink: %w", err)
			}
			defer w.Close()
		}
		var b nftwire.Batch
		b.DelTable(byte(t.Family), t.Name)
		if err := b.Send(w); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove probe table %s: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}
