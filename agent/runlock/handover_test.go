package runlock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHandoverMarker(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "vpnpass.sock")
	if HandingOver(sock) {
		t.Fatal("handing over without a marker")
	}
	if err := Handover(sock); err != nil {
		t.Fatal(err)
	}
	if !HandingOver(sock) {
		t.Fatal("fresh marker not seen")
	}
	old := time.Now().Add(-HandoverFresh - time.Second)
	if err := os.Chtimes(HandoverPath(sock), old, old); err != nil {
		t.Fatal(err)
	}
	if HandingOver(sock) {
		t.Error("a stale marker (a restart whose start failed) still counts")
	}
	if err := EndHandover(sock); err != nil {
		t.Fatal(err)
	}
	if err := EndHandover(sock); err != nil {
		t.Errorf("ending twice: %v", err)
	}
	if _, err := os.Stat(HandoverPath(sock)); !os.IsNotExist(err) {
		t.Errorf("marker still there: %v", err)
	}
}
