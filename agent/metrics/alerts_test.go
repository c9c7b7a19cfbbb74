package metrics

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestExampleAlertRules: the example rules in docs/ pass promtool's check
// and their unit tests, and name only metrics the agent exports (the
// agent's golden exposition, agent/testdata/metrics.prom).
func TestExampleAlertRules(t *testing.T) {
	rules, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile("../testdata/metrics.prom")
	if err != nil {
		t.Fatal(err)
	}
	// Metric names, not recording rules' (level:metric:operation).
	for _, m := range regexp.MustCompile(`(?:^|[^:a-z_])(vpnpass_[a-z_]+)`).FindAllStringSubmatch(string(rules), -1) {
		name := m[1]
		if !strings.Contains(string(exported), "# TYPE "+name+" ") {
			t.Errorf("docs/alerts.yml uses %s, which the agent does not export", name)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool missing: build/deps.sh installs prometheus")
		}
		t.Skip("promtool not installed (build/deps.sh)")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../docs"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
