package metrics_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// Test families, registered once for the package's tests (the registry is the process's).
var (
	testCounter   = metrics.NewCounterVec("test_widgets_total", "Widgets made in tests, by colour.", "colour")
	testHistogram = metrics.NewHistogramVec("test_widget_seconds", "Time to make a widget in tests.", []float64{0.1, 1}, "colour")
	testGauge     = metrics.NewGaugeVec("test_widgets_stored", "Widgets in store in tests.\nSecond line.", "shelf")
)

// sample is one line of the text format: a series and its value.
type sample struct {
	name   string
	labels string
	value  string
}

// scrape is the text format output, parsed into help texts, types and samples.
type scrape struct {
	help    map[string]string
	types   map[string]string
	samples []sample
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)

// mustScrape writes every metric and parses the output, failing on any line the format does not
// allow.
func mustScrape(tb testing.TB) scrape {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, metrics.WritePrometheus(&buf))
	return mustParse(tb, buf.String())
}

func mustParse(tb testing.TB, text string) scrape {
	tb.Helper()
	s := scrape{help: map[string]string{}, types: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			s.help[name] = help
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			s.types[name] = typ
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		require.NotNil(tb, m, "not a sample line: %q", line)
		s.samples = append(s.samples, sample{name: m[1], labels: m[2], value: m[3]})
	}
	return s
}

// value returns the value of the series name{labels}, or "" when it is absent.
func (s scrape) value(name, labels string) string {
	for _, x := range s.samples {
		if x.name == name && x.labels == labels {
			return x.value
		}
	}
	return ""
}

func TestWritePrometheus(t *testing.T) {
	testCounter.With("red").Inc()
	testCounter.With(`bl"ue\`).Add(2)
	testHistogram.With("red").Update(0.5)
	testGauge.With("top").Set(7)

	s := mustScrape(t)

	t.Run("every family has help text and a type", func(t *testing.T) {
		for _, x := range s.samples {
			family := x.name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(x.name, suffix); ok && s.types[base] == "histogram" {
					family = base
				}
			}
			require.NotEmpty(t, s.help[family], "%s has no help text", family)
			require.NotEmpty(t, s.types[family], "%s has no type", family)
		}
	})
	t.Run("counter with escaped label values", func(t *testing.T) {
		require.Equal(t, "counter", s.types["test_widgets_total"])
		require.Equal(t, "Widgets made in tests, by colour.", s.help["test_widgets_total"])
		require.Equal(t, "1", s.value("test_widgets_total", `{colour="red"}`))
		require.Equal(t, "2", s.value("test_widgets_total", `{colour="bl\"ue\\"}`))
	})
	t.Run("histogram has le buckets", func(t *testing.T) {
		require.Equal(t, "histogram", s.types["test_widget_seconds"])
		require.Equal(t, "0", s.value("test_widget_seconds_bucket", `{colour="red",le="0.1"}`))
		require.Equal(t, "1", s.value("test_widget_seconds_bucket", `{colour="red",le="1"}`))
		require.Equal(t, "1", s.value("test_widget_seconds_bucket", `{colour="red",le="+Inf"}`))
		require.Equal(t, "1", s.value("test_widget_seconds_count", `{colour="red"}`))
	})
	t.Run("gauge help is one line", func(t *testing.T) {
		require.Equal(t, "gauge", s.types["test_widgets_stored"])
		require.Equal(t, `Widgets in store in tests.\nSecond line.`, s.help["test_widgets_stored"])
		require.Equal(t, "7", s.value("test_widgets_stored", `{shelf="top"}`))
	})
	t.Run("runtime gauges have values", func(t *testing.T) {
		for _, name := range []string{"go_goroutines", "go_gomaxprocs", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "process_start_time_seconds"} {
			v := s.value(name, "")
			require.NotEmpty(t, v, name)
			require.NotEqual(t, "0", v, name)
		}
	})
	t.Run("families are listed", func(t *testing.T) {
		require.Contains(t, metrics.Families(), "test_widgets_total")
		require.Contains(t, metrics.Families(), "http_requests_total")
	})
}

// TestPromtool runs Prometheus's own linter over the output. CI installs promtool (Debian's
// prometheus package); a machine without it skips this test, and CI's end-to-end promtool step
// still checks the real binary's output.
func TestPromtool(t *testing.T) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	testCounter.With("green").Inc()
	var buf bytes.Buffer
	require.NoError(t, metrics.WritePrometheus(&buf))
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)
}

func TestRegistrationErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "duplicate family", fn: func() { metrics.NewCounterVec("test_widgets_total", "Again.") }},
		{name: "invalid name", fn: func() { metrics.NewCounter("test-bad-name", "Dashes are not allowed.") }},
		{name: "no help", fn: func() { metrics.NewCounter("test_no_help_total", " ") }},
		{name: "invalid label", fn: func() { metrics.NewCounterVec("test_bad_label_total", "Bad label.", "bad-label") }},
		{name: "reserved label", fn: func() { metrics.NewHistogramVec("test_le_seconds", "Uses le.", []float64{1}, "le") }},
		{name: "unsorted buckets", fn: func() { metrics.NewHistogramVec("test_unsorted_seconds", "Unsorted.", []float64{1, 0.5}) }},
		{name: "wrong label count", fn: func() { testCounter.With("red", "extra") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Panics(t, tt.fn)
		})
	}
}
