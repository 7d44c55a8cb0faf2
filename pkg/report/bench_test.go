package report_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/report"
)

// BenchmarkRender renders the client report of the auditor's broken sample (76 workflows, 207 steps,
// 146 findings): the time per report and, as bytes/report, its size before compression.
func BenchmarkRender(b *testing.B) {
	rep, loc := mustSample(b, "broken-account.json")
	ctx := context.Background()
	var buf bytes.Buffer
	if err := report.Render(ctx, &buf, rep, report.Options{Location: loc}); err != nil {
		b.Fatal(err)
	}
	size := buf.Len()
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := report.Render(ctx, &buf, rep, report.Options{Location: loc}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes/report")
}
