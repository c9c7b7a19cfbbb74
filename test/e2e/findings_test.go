package e2e

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Helpers for the agent-level doctor tests: they ask `vpnpass doctor
// --json` in the router, as a user (or LuCI through rpcd) would, until the
// sessions they expect are judged. A session is judged once it has been
// quiet for 30 s (docs/design.md#the-doctor), so these tests take 35-50 s each and run in
// parallel.

// judgedWithin is how long a test waits for the agent's judgement after its
// traffic: 30 s of quiet, the 2 s judging tick, and slack for a loaded box.
const judgedWithin = 75 * time.Second

// sessionCodes maps "host peer protocol" to the codes found for it, in the
// order the doctor reports them.
func sessionCodes(doc doctorJSON) map[string][]string {
	out := map[string][]string{}
	for _, f := range doc.Findings {
		k := f.Host + " " + f.Peer + " " + f.Protocol
		out[k] = append(out[k], f.Code)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// waitDoctor polls the doctor until every session key in want (as
// sessionCodes spells it) has findings, or judgedWithin passes; it returns
// the last answer either way.
func waitDoctor(t testing.TB, a *agentRun, want ...string) doctorJSON {
	t.Helper()
	var doc doctorJSON
	for deadline := time.Now().Add(judgedWithin); ; time.Sleep(2 * time.Second) {
		out, err := a.cli("doctor", "--json")
		if err != nil {
			t.Fatalf("doctor: %v\n%s", err, out)
		}
		doc = doctorJSON{}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("doctor JSON: %v\n%s", err, out)
		}
		got := sessionCodes(doc)
		missing := false
		for _, k := range want {
			missing = missing || len(got[k]) == 0
		}
		if !missing || time.Now().After(deadline) {
			return doc
		}
	}
}

// wantSession checks the codes of one session exactly (sorted).
func wantSession(t testing.TB, doc doctorJSON, key string, codes ...string) {
	t.Helper()
	sort.Strings(codes)
	got := sessionCodes(doc)[key]
	if strings.Join(got, ",") != strings.Join(codes, ",") {
		t.Errorf("session %s: findings %v, want %v\nall: %v", key, got, codes, sessionCodes(doc))
	}
}

// logFindings prints every finding as a person reads it, so the wording
// can be reviewed from the test log (go test -v).
func logFindings(t testing.TB, doc doctorJSON) {
	t.Helper()
	for _, f := range doc.Findings {
		t.Logf("%s %s → %s [%s, %s]\n  message: %s\n  advice:  %s", f.Code, f.Host, f.Peer, f.Protocol, f.Severity, f.Message, f.Advice)
		if f.Message == "" || f.Advice == "" {
			t.Errorf("finding %s has no message or advice", f.Code)
		}
	}
}

// nftIn loads nft commands into a lab node (test fixture: a drop upstream
// or at the server).
func nftIn(t testing.TB, node *lab.Node, script string) {
	t.Helper()
	if out, err := node.Run("nft", script); err != nil {
		t.Fatalf("nft in %s: %v: %s", node.Role, err, out)
	}
}

// startAgentPublic starts an agent that counts the lab's documentation
// "internet" (198.51.100.0/24) as public, as a router with a real public
// address sees it: a Single lab is then not double NAT.
func startAgentPublic(t testing.TB, l *lab.Lab) *agentRun {
	t.Helper()
	a := newAgent(t, l)
	a.options = []string{"list public_range '198.51.100.0/24'"}
	a.writeConfig(t)
	a.start(t)
	return a
}

func key(host, peer, protocol string) string { return host + " " + peer + " " + protocol }
