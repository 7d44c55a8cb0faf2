package analyzer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// countdownContext is done once its Err has been asked n times, so a test can stop an analysis at a
// chosen point of its work without depending on time.
type countdownContext struct {
	context.Context
	n, asked int
}

func (c *countdownContext) Err() error {
	c.asked++
	if c.asked > c.n {
		return context.Canceled
	}
	return nil
}

func TestAnalyzeContextCancelled(t *testing.T) {
	loc := scaleLocation(scale{workflows: 20, steps: 30, objects: 10000, branches: 2, links: 1})
	want := analyzer.Analyze(loc)

	// A full analysis asks its context often: at least once per rule and workflow, and again through
	// the context's lists.
	full := &countdownContext{Context: context.Background(), n: 1 << 30}
	rep, err := analyzer.AnalyzeContext(full, loc)
	require.NoError(t, err)
	require.Equal(t, want, rep, "the context-aware analysis reports exactly what Analyze does")
	require.Greater(t, full.asked, len(analyzer.Rules())*len(loc.Workflows))

	for _, tc := range []struct {
		name string
		n    int
	}{
		{"already cancelled", 0},
		{"at the second look", 1},
		{"in the first tenth", full.asked / 10},
		{"half way", full.asked / 2},
		{"at the last look", full.asked - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &countdownContext{Context: context.Background(), n: tc.n}
			rep, err := analyzer.AnalyzeContext(ctx, loc)
			require.ErrorIs(t, err, context.Canceled)
			require.Contains(t, err.Error(), "analyze location loc-scale")
			require.Nil(t, rep)
			// Once done, the analysis stops at once: it asks again only to confirm, never works on.
			require.LessOrEqual(t, ctx.asked, tc.n+2)
		})
	}

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := analyzer.AnalyzeContext(ctx, loc)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	})
}

// BenchmarkCancelLatency cancels the analysis of 1,000 workflows against 1,000,000 context objects at
// points spread over its run and reports how long it took to stop after the cancellation (stop-ms,
// the worst of the points).
func BenchmarkCancelLatency(b *testing.B) {
	loc := scaleLocation(scale{workflows: 1000, steps: 30, objects: 100000, branches: 2, links: 1})
	start := time.Now()
	analyzer.Analyze(loc)
	total := time.Since(start)
	var worst time.Duration
	for b.Loop() {
		for k := 1; k <= 9; k++ {
			ctx, cancel := context.WithCancel(context.Background())
			cancelled := make(chan time.Time, 1)
			timer := time.AfterFunc(total*time.Duration(k)/10, func() { cancelled <- time.Now(); cancel() })
			_, err := analyzer.AnalyzeContext(ctx, loc)
			done := time.Now()
			timer.Stop()
			cancel()
			if err != nil {
				worst = max(worst, done.Sub(<-cancelled))
			}
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "stop-ms")
}
