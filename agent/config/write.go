package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// Writer persists a protocol's mode. The zero value uses the `uci` command
// when it is on PATH (OpenWrt), so LuCI's staged changes and uci's own file
// locking are respected, and rewrites the file atomically elsewhere.
type Writer struct {
	UCI     string        // uci binary; "" looks up "uci" on PATH
	NoUCI   bool          // always rewrite the file, even where uci exists
	Timeout time.Duration // per uci invocation; 0 means 10 s
}

// SetMode persists mode for proto in the config file at path with the
// default Writer.
func SetMode(path string, proto netfilter.Protocol, mode netfilter.Mode) error {
	return Writer{}.SetMode(path, proto, mode)
}

// SetMode sets `option mode` of `config passthrough '<proto>'`, creating the
// section when it is missing. Both values are validated enums before any
// command runs or any byte is written.
func (w Writer) SetMode(path string, proto netfilter.Protocol, mode netfilter.Mode) error {
	if _, err := netfilter.ParseProtocol(string(proto)); err != nil {
		return err
	}
	if _, err := netfilter.ParseMode(string(mode)); err != nil {
		return err
	}
	f, err := readForEdit(path)
	if err != nil {
		return err
	}
	if s := f.Section(string(proto)); s != nil && s.Type != "passthrough" {
		return fmt.Errorf("%s: section %q has type %q, not passthrough; fix the file by hand", path, proto, s.Type)
	}
	if bin := w.uciBinary(); bin != "" && uci.ValidPackage(filepath.Base(path)) {
		return w.viaUCI(bin, path, f, proto, mode)
	}
	return rewrite(path, f, proto, mode)
}

func (w Writer) uciBinary() string {
	if w.NoUCI {
		return ""
	}
	if w.UCI != "" {
		return w.UCI
	}
	bin, err := exec.LookPath("uci")
	if err != nil {
		return ""
	}
	return bin
}

// readForEdit parses the file; a missing file is an empty one.
func readForEdit(path string) (*uci.File, error) {
	f, err := uci.ParseFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &uci.File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config before changing it: %w", err)
	}
	return f, nil
}

// viaUCI runs `uci -c DIR set PKG.PROTO.mode=MODE` and `uci -c DIR commit PKG`
// (plus `set PKG.PROTO=passthrough` first when the section is missing).
func (w Writer) viaUCI(bin, path string, f *uci.File, proto netfilter.Protocol, mode netfilter.Mode) error {
	dir, pkg := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		// uci cannot set options in a package whose file does not exist.
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	var cmds [][]string
	if f.Section(string(proto)) == nil {
		cmds = append(cmds, []string{"set", fmt.Sprintf("%s.%s=passthrough", pkg, proto)})
	}
	cmds = append(cmds,
		[]string{"set", fmt.Sprintf("%s.%s.mode=%s", pkg, proto, mode)},
		[]string{"commit", pkg})
	for _, c := range cmds {
		if err := w.run(bin, append([]string{"-c", filepath.Clean(dir)}, c...)); err != nil {
			return err
		}
	}
	return nil
}

func (w Writer) run(bin string, args []string) error {
	timeout := w.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w: %s", bin, args, err, bytes.TrimSpace(out))
	}
	return nil
}

// rewrite sets the mode in the parsed file and replaces the file atomically.
// Like `uci commit`, it writes the canonical form: comments are not kept.
func rewrite(path string, f *uci.File, proto netfilter.Protocol, mode netfilter.Mode) error {
	s := f.Section(string(proto))
	if s == nil {
		s = f.AddSection("passthrough", string(proto))
	}
	s.Set("mode", string(mode))
	return WriteFileAtomic(path, uci.Render(f))
}

// WriteFileAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory. The file keeps
// the mode of the file it replaces (0644 for a new one).
func WriteFileAtomic(path string, data []byte) error {
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: makes the rename durable across power loss
		d.Close()
	}
	return nil
}
