package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// SetMode sets `option mode` of `config passthrough '<proto>'` in the config
// file at path, creating the section when it is missing. Both values are
// validated enums before any byte is written.
//
// It writes the file itself, as `uci commit` does (same lock, re-read under
// it, temporary file and rename), and never touches uci's staging
// directory: `uci set` + `uci commit vpnpass` would also commit whatever
// someone else staged in /tmp/.uci/vpnpass (a LuCI user mid-edit). Their
// staged changes stay staged, for them to apply or revert.
func SetMode(path string, proto vpn.Protocol, mode netfilter.Mode) error {
	if _, err := vpn.ParseProtocol(string(proto)); err != nil {
		return err
	}
	if _, err := netfilter.ParseMode(string(mode)); err != nil {
		return err
	}
	unlock, err := lockConfig(path)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := readForEdit(path)
	if err != nil {
		return err
	}
	if s := f.Section(string(proto)); s != nil && s.Type != "passthrough" {
		return fmt.Errorf("%s: section %q has type %q, not passthrough; fix the file by hand", path, proto, s.Type)
	}
	return rewrite(path, f, proto, mode)
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

// rewrite sets the mode in the parsed file and replaces the file atomically.
// Like `uci commit`, it writes the canonical form: comments are not kept.
func rewrite(path string, f *uci.File, proto vpn.Protocol, mode netfilter.Mode) error {
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
	// One error exit: each step names itself (and the file it acts on).
	step, name := "write", tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		step, err = "chmod", tmp.Chmod(perm)
	}
	if err == nil {
		step, err = "fsync", tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		step, err = "close", cerr
	}
	if err == nil {
		step, name, err = "replace", path, os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name()) // no defer: the one exit that leaves it behind
		return fmt.Errorf("%s %s: %w", step, name, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: makes the rename durable across power loss
		d.Close()
	}
	return nil
}
