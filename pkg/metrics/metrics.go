// Package metrics exports ghl-debugger's Prometheus metrics. It holds the one registry of the
// process, typed constructors that give every metric family its help text and fixed label names,
// the Echo middleware that measures HTTP requests by route template, the /metrics handler, and the
// per-family timer of database queries behind /internal/db-stats.
//
// The metrics themselves are package-level variables beside the code they measure (pkg/api,
// pkg/store, here for HTTP); this package only knows how to register and write them. Label values
// come from small fixed sets (route templates, tiers, severities, query families), never from ids,
// so the number of series stays bounded whatever the traffic.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	vm "github.com/VictoriaMetrics/metrics"
)

func init() {
	// The library writes "# HELP" and "# TYPE" lines only with metadata on. Its HELP lines have no
	// text, which WritePrometheus fills in from the help registered with each family.
	vm.ExposeMetadata(true)
}

// registry is every metric family of the process with its help text.
var registry = struct {
	set  *vm.Set
	mu   sync.Mutex
	help map[string]string
}{set: vm.NewSet(), help: map[string]string{}}

var (
	namePattern  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelPattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// describe registers a family's help text. A name registered twice, an invalid name or label, or
// an empty help text is a programming error found at start, so it panics, like the library does
// for a duplicate metric.
func describe(name, help string, labels []string) {
	if !namePattern.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	if strings.TrimSpace(help) == "" {
		panic(fmt.Sprintf("metrics: %s has no help text", name))
	}
	for _, l := range labels {
		if !labelPattern.MatchString(l) || strings.HasPrefix(l, "__") || l == "le" || l == "quantile" {
			panic(fmt.Sprintf("metrics: %s has an invalid label name %q", name, l))
		}
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.help[name]; dup {
		panic(fmt.Sprintf("metrics: %s is registered twice", name))
	}
	// Prometheus help text is one line; a backslash and a newline are its only escapes.
	registry.help[name] = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
}

// series returns the series name of family name with the given label names and values, as the
// library takes it: name{a="x",b="y"}.
func series(name string, labels, values []string) string {
	if len(values) != len(labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values (%s), got %d", name, len(labels), strings.Join(labels, ", "), len(values)))
	}
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(values[i]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// labelEscaper escapes a label value for the text format: backslash, double quote and newline.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// CounterVec is a counter family with fixed label names; each combination of label values is one
// series.
type CounterVec struct {
	name   string
	labels []string
}

// NewCounterVec registers a counter family. Its name should end in _total.
func NewCounterVec(name, help string, labels ...string) *CounterVec {
	describe(name, help, labels)
	return &CounterVec{name: name, labels: slices.Clone(labels)}
}

// With returns the series of the given label values, one per label name, in order. Values must
// come from a small fixed set: every distinct combination is kept for the life of the process.
func (v *CounterVec) With(values ...string) *vm.Counter {
	return registry.set.GetOrCreateCounter(series(v.name, v.labels, values))
}

// NewCounter registers a counter without labels.
func NewCounter(name, help string) *vm.Counter {
	describe(name, help, nil)
	return registry.set.NewCounter(name)
}

// HistogramVec is a histogram family with fixed buckets and label names. Its series are Prometheus
// histograms (cumulative le buckets), which plain Prometheus and promtool understand.
type HistogramVec struct {
	name    string
	labels  []string
	buckets []float64
}

// NewHistogramVec registers a histogram family with the given bucket upper bounds (ascending).
func NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	describe(name, help, labels)
	if err := vm.ValidateBuckets(buckets); err != nil {
		panic(fmt.Sprintf("metrics: %s: %v", name, err))
	}
	return &HistogramVec{name: name, labels: slices.Clone(labels), buckets: slices.Clone(buckets)}
}

// With returns the series of the given label values (see CounterVec.With).
func (v *HistogramVec) With(values ...string) *vm.PrometheusHistogram {
	return registry.set.GetOrCreatePrometheusHistogramExt(series(v.name, v.labels, values), v.buckets)
}

// NewHistogram registers a histogram without labels.
func NewHistogram(name, help string, buckets []float64) *vm.PrometheusHistogram {
	describe(name, help, nil)
	return registry.set.NewPrometheusHistogramExt(name, buckets)
}

// GaugeVec is a gauge family with fixed label names whose series are set by the code that knows
// their values.
type GaugeVec struct {
	name   string
	labels []string
}

// NewGaugeVec registers a settable gauge family.
func NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	describe(name, help, labels)
	return &GaugeVec{name: name, labels: slices.Clone(labels)}
}

// With returns the series of the given label values (see CounterVec.With).
func (v *GaugeVec) With(values ...string) *vm.Gauge {
	return registry.set.GetOrCreateGauge(series(v.name, v.labels, values), nil)
}

// NewGauge registers a gauge without labels. With f, the gauge reports f() at every scrape (f must
// be safe for concurrent use); without, its value is set with Set, Inc and Dec.
func NewGauge(name, help string, f func() float64) *vm.Gauge {
	describe(name, help, nil)
	return registry.set.NewGauge(name, f)
}

// WritePrometheus writes every registered series in the Prometheus text format (version 0.0.4),
// each family preceded by its HELP and TYPE lines.
func WritePrometheus(w io.Writer) error {
	var in, out bytes.Buffer
	registry.set.WritePrometheus(&in)
	registry.mu.Lock()
	for line := range strings.Lines(in.String()) {
		if family, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "# HELP "); ok {
			if help, ok := registry.help[family]; ok {
				line = "# HELP " + family + " " + help + "\n"
			}
		}
		out.WriteString(line)
	}
	registry.mu.Unlock()
	if _, err := out.WriteTo(w); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// Families returns the names of every registered family, sorted.
func Families() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	names := make([]string, 0, len(registry.help))
	for name := range registry.help {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
