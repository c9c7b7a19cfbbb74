package lab

import (
	"fmt"
	"path/filepath"
	"regexp"
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

// fw3LanToWAN is the rule fw3-locked removes: fw3 renders lan→wan
// forwarding (config forwarding src lan dest wan) as this jump.
const fw3LanToWAN = `-A zone_lan_forward -m comment --comment "!fw3: Zone lan to wan forwarding policy" -j zone_wan_dest_ACCEPT`

var fw3WANDev = regexp.MustCompile(`(-[io]) eth1\b`)

// renderFW3 adapts the fw3 fixture (IPv4 and IPv6 parts separated by a
// line "# ip6tables") to the lab's WAN device and the locked variant.
func renderFW3(fixture, wan string, locked bool) (v4, v6 string, err error) {
	text := fw3WANDev.ReplaceAllString(fixture, "$1 "+wan)
	if locked {
		if strings.Count(text, fw3LanToWAN) != 2 {
			return "", "", fmt.Errorf("fw3 fixture has changed: want the lan→wan rule once per family")
		}
		text = strings.ReplaceAll(text, fw3LanToWAN+"\n", "")
	}
	parts := strings.SplitN(text, "\n# ip6tables\n", 2)
	if len(parts) != 2 {
		return "", "", fmt.Errorf("fw3 fixture has no \"# ip6tables\" separator")
	}
	return parts[0] + "\n", parts[1], nil
}
