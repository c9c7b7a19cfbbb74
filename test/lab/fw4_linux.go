package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fw4AcceptToWAN is the rule fw4-locked removes from forward_lan.
const fw4AcceptToWAN = `jump accept_to_wan comment "!fw4: Accept lan to wan forwarding"`

// renderFW4 turns the fw4 fixture into what loads in this lab. The edits,
// recorded at the top of the rendered file too:
//   - the flowtable block and the `flow offload @ft` rule are dropped: the
//     lab kernel has no flowtables (on a real router they stay);
//   - the `ct helper rtsp` object and its rule are dropped: rtsp is out of
//     tree and absent;
//   - "pppoe-wan" becomes the lab's WAN device;
//   - the user include points at an empty directory of the lab;
//   - with includeDir, a chain-pre include opens chain forward, as fw4
//     renders /usr/share/nftables.d/chain-pre/forward/;
//   - locked: forward_lan loses its jump to accept_to_wan.
func renderFW4(fixture, wan, userInclude, includeDir string, locked bool) (string, error) {
	var out, edits []string
	lines := strings.Split(fixture, "\n")
	flowtable, flow, rtsp, includes, lanRule := false, false, 0, false, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "flowtable ft {"):
			for i < len(lines) && strings.TrimSpace(lines[i]) != "}" {
				i++
			}
			flowtable = true
			continue
		case strings.Contains(trim, "flow offload @ft"):
			flow = true
			continue
		case trim == "ct helper rtsp {":
			for i < len(lines) && strings.TrimSpace(lines[i]) != "}" {
				i++
			}
			rtsp++
			continue
		case strings.Contains(trim, `ct helper set "rtsp"`):
			rtsp++
			continue
		case trim == `include "/etc/nftables.d/*.nft"`:
			line = strings.Replace(line, "/etc/nftables.d", userInclude, 1)
			includes = true
		case locked && trim == fw4AcceptToWAN:
			lanRule = true
			continue
		}
		out = append(out, strings.ReplaceAll(line, `"pppoe-wan"`, `"`+wan+`"`))
		if includeDir != "" && strings.HasPrefix(trim, "type filter hook forward priority filter;") {
			out = append(out, "", fmt.Sprintf("\t\tinclude %q", filepath.Join(includeDir, "*.nft")))
		}
	}
	if !flowtable || !flow || rtsp != 2 || !includes || locked && !lanRule {
		return "", fmt.Errorf("fw4 fixture has changed: flowtable %v, flow offload %v, rtsp parts %d, include %v, lan→wan rule %v",
			flowtable, flow, rtsp, includes, lanRule)
	}
	edits = append(edits,
		"dropped: flowtable ft block and `flow offload @ft` rule (no flowtable support in the lab kernel)",
		"dropped: ct helper rtsp object and its `ct helper set \"rtsp\"` rule (rtsp helper absent)",
		fmt.Sprintf("renamed: pppoe-wan -> %s (the lab's WAN device)", wan),
		fmt.Sprintf("include /etc/nftables.d/*.nft -> %s/*.nft (empty lab directory)", userInclude))
	if includeDir != "" {
		edits = append(edits, fmt.Sprintf("added: chain-pre include %s/*.nft as the first statement of chain forward", includeDir))
	}
	if locked {
		edits = append(edits, "dropped (fw4-locked): forward_lan `"+fw4AcceptToWAN+"`")
	}
	head := "# Rendered by test/lab from test/testdata/fw4-default.nft. Edits:\n# - " +
		strings.Join(edits, "\n# - ") + "\n"
	return head + strings.Join(out, "\n"), nil
}

// loadFW4 renders the fixture into the lab's temp dir and loads it with
// `nft -f` inside the router.
func (l *Lab) loadFW4(locked bool) error {
	fixture, err := ReadTestdata("fw4-default.nft")
	if err != nil {
		return err
	}
	userInclude := filepath.Join(l.tmpDir, "nftables.d")
	if err := os.MkdirAll(userInclude, 0o755); err != nil {
		return err
	}
	text, err := renderFW4(string(fixture), l.WANDevice, userInclude, l.Config.FW4IncludeDir, locked)
	if err != nil {
		return err
	}
	l.fw4File = filepath.Join(l.tmpDir, "fw4.nft")
	if err := os.WriteFile(l.fw4File, []byte(text), 0o644); err != nil {
		return err
	}
	return l.ReloadFW4()
}

// FW4Ruleset is the path of the rendered fw4 ruleset ("" without fw4).
func (l *Lab) FW4Ruleset() string { return l.fw4File }

// ReloadFW4 runs `nft -f` of the rendered fw4 ruleset again. The file
// starts with `flush table inet fw4`, so this is what `fw4 reload` does to
// the kernel: our rules in fw4's chains vanish unless an include renders
// them back.
func (l *Lab) ReloadFW4() error {
	if l.fw4File == "" {
		return fmt.Errorf("lab %s has no fw4 firewall", l.Name)
	}
	_, err := l.Router.Run("nft", "-f", l.fw4File)
	return err
}
