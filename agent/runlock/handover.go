package runlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// A restart hands the rules over instead of removing and re-adding them:
// `vpnpass handover` (the init script's restart) leaves a marker beside the
// socket; the stopping agent then exits without removing its rules,
// `vpnpass cleanup` (service_stopped) leaves them too, and the next agent
// adopts them as they are and removes the marker. So VPN traffic never
// meets a router without our rules during a restart or a package upgrade.
// A marker older than HandoverFresh is ignored: a restart whose start
// failed must not turn a later stop into one that leaves rules behind.

// HandoverFresh bounds how long a marker counts: a restart's stop and start
// follow each other within seconds, even on a slow router.
const HandoverFresh = time.Minute

// HandoverPath is the marker of the agent that serves socket.
func HandoverPath(socket string) string { return socket + ".handover" }

// Handover leaves the marker (now).
func Handover(socket string) error {
	p := HandoverPath(socket)
	if err := os.WriteFile(p, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the restart marker %s: %w", p, err)
	}
	return nil
}

// HandingOver reports whether a fresh marker is there.
func HandingOver(socket string) bool {
	fi, err := os.Stat(HandoverPath(socket))
	return err == nil && time.Since(fi.ModTime()) < HandoverFresh
}

// EndHandover removes the marker (the new agent has adopted the rules).
func EndHandover(socket string) error {
	err := os.Remove(HandoverPath(socket))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the restart marker: %w", err)
	}
	return nil
}
