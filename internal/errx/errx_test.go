package errx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"
)

type valErr struct{ s string }

func (e valErr) Error() string { return e.s }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type timeout interface {
	error
	Timeout() bool
}

// As agrees with errors.As on wrapped, joined and absent targets of
// pointer, value and interface types.
func TestAsMatchesErrors(t *testing.T) {
	pe := &fs.PathError{Op: "open", Path: "/x", Err: os.ErrNotExist}
	chains := []error{
		nil, pe, fmt.Errorf("step: %w", pe), errors.Join(errors.New("a"), fmt.Errorf("b: %w", valErr{"v"})),
		fmt.Errorf("%w and %w", valErr{"first"}, pe), valErr{"v"}, fmt.Errorf("t: %w", timeoutErr{}),
		errors.Join(nil, errors.Join(timeoutErr{})), errors.New("plain"),
	}
	for i, err := range chains {
		var wp *fs.PathError
		gp, ok := As[*fs.PathError](err)
		if errors.As(err, &wp) != ok || gp != wp {
			t.Errorf("%d %v: *PathError %v %v, errors.As %v", i, err, gp, ok, wp)
		}
		var wv valErr
		gv, ok := As[valErr](err)
		if errors.As(err, &wv) != ok || gv != wv {
			t.Errorf("%d %v: valErr %v %v, errors.As %v", i, err, gv, ok, wv)
		}
		var wi timeout
		gi, ok := As[timeout](err)
		if errors.As(err, &wi) != ok || gi != wi {
			t.Errorf("%d %v: timeout %v %v, errors.As %v", i, err, gi, ok, wi)
		}
	}
}
