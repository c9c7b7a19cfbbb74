package ipt

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Apply makes exactly the changes Plan(d) returns, then reads back. iptables
// cannot change several rules atomically, so on a failed step or a read-back
// that still differs from d, every step done is undone in reverse order and
// the state before is checked to be back.
func (b *Backend) Apply(d netfilter.Desired) ([]netfilter.Change, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops, before, err := b.plan(d)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return []netfilter.Change{}, nil
	}
	var done []op
	for i, o := range ops {
		err := o.run(b.family(o.fam).run)
		if err == nil {
			addOps(&done, o)
			if b.afterOp != nil {
				err = b.afterOp(i, o)
			}
		}
		if err != nil {
			return nil, b.rollback(done, before, netfilter.Wrap(string(b.Kind())+": apply", err))
		}
	}
	left, _, err := b.plan(d)
	if err != nil {
		return nil, b.rollback(done, before, netfilter.Wrap(string(b.Kind())+": read back", err))
	}
	if len(left) > 0 {
		c := left[0].change(b.Kind())
		return nil, b.rollback(done, before, errors.New(string(b.Kind())+": read back: "+strconv.Itoa(len(left))+
			" change(s) still differ, first: "+c.Action+" "+c.Family+" "+c.Table+" "+c.Rule))
	}
	return b.changes(ops), nil
}

// rollback undoes done (newest first) and checks our share of the ruleset is
// as it was. A step of the undo may fail because the apply's own step is
// what went missing (a concurrent change): the comparison with the state
// before decides. It returns cause, wrapped with what the rollback achieved.
func (b *Backend) rollback(done []op, before []famState, cause error) error {
	var stepErrs, errs []error
	for i := len(done) - 1; i >= 0; i-- {
		inv := done[i].inverse()
		if err := inv.run(b.family(inv.fam).run); err != nil {
			slicex.Errors(&stepErrs, err)
		}
	}
	for i, f := range b.fams {
		st, err := f.read()
		if err != nil {
			slicex.Errors(&errs, err)
			continue
		}
		if ownView(st) != ownView(before[i]) {
			slicex.Errors(&errs, errors.New(f.name+": our rules differ from before the apply"))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w; rollback incomplete: %w", cause, errors.Join(append(errs, stepErrs...)...))
	}
	return fmt.Errorf("%w; rolled back", cause)
}
