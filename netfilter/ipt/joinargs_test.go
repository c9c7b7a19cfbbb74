package ipt

import (
	"strings"
	"testing"
)

// joinArgs quotes like iptables -S, and tokenize reads its output back.
func TestJoinArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-p", "udp", "--dport", "500"}, `-p udp --dport 500`},
		{[]string{"-m", "comment", "--comment", "vpnpass"}, `-m comment --comment "vpnpass"`},
		{[]string{"--comment", `say "hi" \ ok`}, `--comment "say \"hi\" \\ ok"`},
		{[]string{"-j", "LOG", "--log-prefix", `a\"b`}, `-j LOG --log-prefix "a\\\"b"`},
		{[]string{"x", ""}, `x ""`},
	}
	for _, tc := range tests {
		got := joinArgs(tc.args)
		if got != tc.want {
			t.Errorf("joinArgs(%q) = %s, want %s", tc.args, got, tc.want)
		}
		back, err := tokenize(got)
		if err != nil || strings.Join(back, "\x00") != strings.Join(tc.args, "\x00") {
			t.Errorf("tokenize(%s) = %q, %v; want %q", got, back, err, tc.args)
		}
	}
}
