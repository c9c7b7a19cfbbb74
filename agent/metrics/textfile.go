package metrics

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteTextfile replaces path with text atomically: a temporary file in the
// same directory, synced, then renamed over it, so node-exporter's textfile
// collector never reads half a file (it reads every *.prom in the directory;
// the temporary name does not end in .prom). The directory is created when
// missing (/var/prometheus is on tmpfs, gone after a reboot).
func WriteTextfile(path, text string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("metrics textfile: create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("metrics textfile: %w", err)
	}
	tmp := f.Name()
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("metrics textfile: write %s: %w", path, err)
	}
	return nil
}
