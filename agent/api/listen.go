package api

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// ErrInUse is returned by ListenUnix when a live server already listens on
// the path (another daemon is running).
var ErrInUse = errors.New("another vpnpass daemon is listening on the socket")

// ListenUnix creates the API socket at path with mode 0600. An existing
// socket is removed only when nothing listens on it (a stale one left by a
// killed daemon); a live one gives ErrInUse and anything that is not a socket
// is left alone. The socket is bound under a temporary name, restricted to
// 0600 and then renamed into place, so it is never reachable with wider
// permissions. Closing the listener removes the socket.
func ListenUnix(path string) (*Listener, error) {
	if err := clearStale(path); err != nil {
		return nil, err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp) // left by a crash of this pid's predecessor
	ln, err := sock.ListenUnix(tmp)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("rename socket into %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return &Listener{ln: ln, path: path, st: st}, nil
}

// clearStale removes a socket at path that nobody listens on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket; not removing it", path)
	}
	c, err := sock.DialUnix(path)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s: %w", path, ErrInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// Listener is the API socket (ListenUnix).
type Listener struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	ln   *sock.Listener
	path string
	st   os.FileInfo
}

// Accept waits for the next connection.
func (l *Listener) Accept() (*sock.Conn, error) { return l.ln.Accept() }

// Close stops listening and removes the socket, unless another process has
// replaced it meanwhile.
func (l *Listener) Close() error {
	err := l.ln.Close()
	if st, serr := os.Stat(l.path); serr == nil && os.SameFile(st, l.st) {
		os.Remove(l.path)
	}
	return err
}
