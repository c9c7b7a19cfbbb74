package wan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// NetInterface is one `config interface` section of OpenWrt's
// /etc/config/network, reduced to what tells IPv4 sharing apart.
type NetInterface struct {
	Name     string // section name, e.g. "wanmap"
	Proto    string // "dhcp", "pppoe", "map", "dslite", "ipip6", ...
	Type     string // proto map's `option type`: "map-e" (default), "map-t", "lw4o6"
	Disabled bool
}

// TunnelDevice is the device netifd creates for a tunnel protocol
// ("map-<name>", "ds-<name>", "ipip6-<name>"), or "" for other protocols.
func (n NetInterface) TunnelDevice() string {
	switch n.Proto {
	case "map":
		return "map-" + n.Name
	case "dslite":
		return "ds-" + n.Name
	case "ipip6":
		return "ipip6-" + n.Name
	}
	return ""
}

// ReadNetworkConfig parses an OpenWrt network config file; a missing file
// is no error (not OpenWrt) and yields nothing.
func ReadNetworkConfig(path string) ([]NetInterface, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network config: %w", err)
	}
	defer f.Close()
	ifaces, err := ParseNetworkConfig(f)
	if err != nil {
		return nil, fmt.Errorf("network config %s: %w", path, err)
	}
	return ifaces, nil
}

// ParseNetworkConfig reads UCI syntax (config/option/list lines, quoted or
// bare words, comments) and returns the interface sections. It reads only
// what it needs and skips lines it does not understand, so an unusual file
// still yields its interfaces.
func ParseNetworkConfig(r io.Reader) ([]NetInterface, error) {
	var out []NetInterface
	var cur *NetInterface
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		words, err := uciWords(sc.Text())
		if err != nil || len(words) == 0 {
			continue
		}
		switch words[0] {
		case "config":
			cur = nil
			if len(words) >= 2 && words[1] == "interface" {
				out = append(out, NetInterface{})
				cur = &out[len(out)-1]
				if len(words) >= 3 {
					cur.Name = words[2]
				}
			}
		case "option":
			if cur != nil && len(words) >= 3 {
				setOption(cur, words[1], words[2])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func setOption(n *NetInterface, key, value string) {
	switch key {
	case "proto":
		n.Proto = value
	case "type":
		n.Type = value
	case "disabled":
		n.Disabled = value == "1" || value == "yes" || value == "on" || value == "true"
	}
}

// uciWords splits a UCI line into words: 'single' and "double" quoted
// strings, bare words, and a # comment to the end of the line.
func uciWords(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return words, nil
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			words = append(words, line[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t\r#", rune(line[j])) {
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
	}
	return words, nil
}
