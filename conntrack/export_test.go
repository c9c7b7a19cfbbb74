package conntrack

// Names the external tests (package conntrack_test, which may import the
// diagnosis) need from inside.
const (
	AccountingSysctl = accountingSysctl
)
