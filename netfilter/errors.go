package netfilter

// Wrap returns the error fmt.Errorf("%s: %w", step, err) returns (same
// text, errors.Is/As reach err) without fmt: every Errorf call site boxes
// its arguments and costs ~150–300 B of mips code, and the firewall
// packages wrap at some sixty steps. err must not be nil.
func Wrap(step string, err error) error {
	return &wrapError{msg: step + ": " + err.Error(), err: err}
}

type wrapError struct {
	_   noCompare
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }
