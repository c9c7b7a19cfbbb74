package metrics

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSample(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      float64
		labels []string
		want   string
	}{
		{"plain", 3, nil, "m 3\n"},
		{"float", 1.5, nil, "m 1.5\n"},
		{"big integer", 1e15, nil, "m 1e+15\n"},
		{"negative", -2, nil, "m -2\n"},
		{"nan", math.NaN(), nil, "m NaN\n"},
		{"inf", math.Inf(1), nil, "m +Inf\n"},
		{"labels", 1, []string{"a", "x", "b", "y"}, "m{a=\"x\",b=\"y\"} 1\n"},
		{"escaped", 0, []string{"a", "q\"b\\s\nn"}, "m{a=\"q\\\"b\\\\s\\nn\"} 0\n"},
		{"odd label list ignores the last", 1, []string{"a", "x", "b"}, "m{a=\"x\"} 1\n"},
	} {
		w := &Writer{}
		w.Sample("m", c.v, c.labels...)
		if got := w.String(); got != c.want {
			t.Errorf("%s: got %q want %q", c.name, got, c.want)
		}
	}
}

func TestFamilyEscapesHelp(t *testing.T) {
	w := &Writer{}
	w.Family("m_total", Counter, "a \\ b\nc \"q\"")
	want := "# HELP m_total a \\\\ b\\nc \"q\"\n# TYPE m_total counter\n"
	if got := w.String(); got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestCounterVec(t *testing.T) {
	c := CounterVec{Name: "x_total", Help: "h", Labels: []string{"code", "protocol"}}
	c.Init("b", "ipsec")
	c.Inc("a", "pptp")
	c.Add(2, "a", "pptp")
	w := &Writer{}
	c.Write(w)
	want := "# HELP x_total h\n# TYPE x_total counter\n" +
		"x_total{code=\"a\",protocol=\"pptp\"} 3\nx_total{code=\"b\",protocol=\"ipsec\"} 0\n"
	if got := w.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if c.Get("a", "pptp") != 3 || c.Get("zz", "pptp") != 0 {
		t.Errorf("Get: %d %d", c.Get("a", "pptp"), c.Get("zz", "pptp"))
	}
}

// TestWriteTextfile: the file is replaced whole and no temporary file is
// left where the collector looks.
func TestWriteTextfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "prometheus")
	path := filepath.Join(dir, "vpnpass.prom")
	for _, text := range []string{"a 1\n", "b 2\n"} {
		if err := WriteTextfile(path, text); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != text {
			t.Fatalf("read back %q, %v; want %q", got, err, text)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only vpnpass.prom", len(ents))
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (node-exporter may run as another user)", st.Mode())
	}
	if err := WriteTextfile(filepath.Join(path, "x.prom"), "a 1\n"); err == nil || !strings.Contains(err.Error(), "metrics textfile") {
		t.Errorf("writing under a file: %v", err)
	}
}
