package nft

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/mdlayher/netlink"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Backend is the fw4 / plain nftables netfilter.Backend.
type Backend struct {
	mu    sync.Mutex
	cfg   config
	netns int           // reads (nftwire's dumps, a socket each) and writes
	w     *netlink.Conn // writes: our batches (nftwire)
}

var _ netfilter.Backend = (*Backend)(nil)

// New validates opts and returns a Backend. It changes nothing.
func New(opts Options) (*Backend, error) {
	cfg, err := opts.validate()
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, netns: opts.NetNS}
	// The writing socket lasts, opened now in the namespace the reads use.
	if b.w, err = nftwire.Dial(b.netns); err != nil {
		return nil, fmt.Errorf("open nftables netlink: %w", err)
	}
	return b, nil
}

// Close releases the writing socket New opened.
func (b *Backend) Close() error { return b.w.Close() }

// Kind names the firewall this backend writes to.
func (b *Backend) Kind() netfilter.Kind { return b.cfg.kind }

// Persistent reports whether our allow rules come back by themselves after
// the firewall re-renders its ruleset: true only for fw4 with auto_includes,
// where fw4 includes our file. Otherwise (auto_includes 0, or a plain
// nftables ruleset reloaded by its owner) only a netlink repair after the
// reload restores them, so the agent must watch for ruleset changes.
func (b *Backend) Persistent() bool {
	return b.cfg.kind == netfilter.KindFW4 && b.cfg.usesInclude()
}

func validDesired(d netfilter.Desired) error {
	for p, m := range d {
		if _, err := vpn.ParseProtocol(string(p)); err != nil {
			return err
		}
		if m == "" {
			continue
		}
		if _, err := netfilter.ParseMode(string(m)); err != nil {
			return fmt.Errorf("protocol %s: %w", p, err)
		}
	}
	return nil
}

// makePlan reads the kernel (and the include file) and plans d.
func (b *Backend) makePlan(d netfilter.Desired) (*plan, error) {
	if err := validDesired(d); err != nil {
		return nil, err
	}
	s, err := readSnapshot(b.netns)
	if err != nil {
		return nil, err
	}
	p := &plan{kind: b.cfg.kind}
	if err := b.planOurs(s, b.cfg.ours(d), p); err != nil {
		return nil, err
	}
	if err := b.planForeign(s, d, p); err != nil {
		return nil, err
	}
	if err := b.planInclude(d, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Plan returns the changes Apply(d) would make now; empty means no drift.
func (b *Backend) Plan(d netfilter.Desired) ([]netfilter.Change, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.makePlan(d)
	if err != nil {
		return nil, err
	}
	return p.changes(), nil
}

// Apply brings the kernel to d in one netlink batch, then updates the fw4
// include file. If the batch fails because the ruleset changed under us
// (a firewall reload between reading and writing), it re-plans once.
func (b *Backend) Apply(d netfilter.Desired) ([]netfilter.Change, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var p *plan
	var err error
	for try := 0; try < 2; try++ {
		if p, err = b.makePlan(d); err != nil {
			return nil, err
		}
		if err = b.execute(p); err == nil || !errors.Is(err, errBatch) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return p.changes(), b.executeFiles(p)
}

var errBatch = errors.New("nftables batch failed")

// execute queues the kernel ops of p in batch order and sends them at once.
func (b *Backend) execute(p *plan) error {
	var batch nftwire.Batch
	n := 0
	for _, o := range p.sorted() {
		if o.queue != nil {
			o.queue(&batch)
			n++
		}
	}
	if err := batch.Err(); err != nil {
		return err // nothing sent
	}
	if err := batch.Send(b.w); err != nil {
		if p.addsHelper() {
			err = fmt.Errorf("%w (creating ct helper %s needs the kernel's pptp conntrack helper: nf_conntrack_pptp)", err, HelperObject)
		}
		return fmt.Errorf("%w (%d operations): %w", errBatch, n, err)
	}
	return nil
}

func (p *plan) addsHelper() bool {
	for _, o := range p.ops {
		if o.phase == phaseAddObj {
			return true
		}
	}
	return false
}

func (b *Backend) executeFiles(p *plan) error {
	for _, o := range p.sorted() {
		if o.file != nil {
			if err := o.file(); err != nil {
				return err
			}
		}
	}
	return nil
}

// planInclude plans the fw4 include file: the allow rules of d while fw4
// reads includes, no file otherwise.
func (b *Backend) planInclude(d netfilter.Desired, p *plan) error {
	want := ""
	if b.cfg.usesInclude() {
		want = b.cfg.includeText(d)
	}
	write, remove, link, err := b.cfg.includeState(want)
	if err != nil {
		return err
	}
	n := len(b.cfg.foreignSpecs(d, famInet))
	if write {
		p.addFile("add", b.cfg.includeFile(), "fw4 include, "+strconv.Itoa(n)+" rules", func() error { return b.cfg.writeInclude(want) })
	}
	if remove {
		p.addFile("delete", b.cfg.includeFile(), "fw4 include", b.cfg.removeInclude)
	}
	if link {
		p.addFile("add", b.cfg.includeSymlink(), "symlink to "+b.cfg.includeFile(), b.cfg.ensureSymlink)
	}
	return nil
}

// Cleanup removes our table, every rule tagged vpnpass:* in any writable
// table (whatever LAN devices or protocols it was made for), and the fw4
// include file, in one batch.
func (b *Backend) Cleanup() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var err error
	for try := 0; try < 2; try++ {
		var s *snapshot
		if s, err = readSnapshot(b.netns); err != nil {
			return err
		}
		p := &plan{kind: b.cfg.kind}
		if t := s.table(nftwire.FamilyINet, OurTable); t != nil {
			if err = p.delOurTable(s, t); err != nil {
				return err
			}
		}
		if err = b.planCleanupForeign(s, p); err != nil {
			return err
		}
		if err = b.execute(p); err == nil || !errors.Is(err, errBatch) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	if err := b.cfg.removeTemps(); err != nil {
		return err
	}
	return b.cfg.removeInclude()
}
