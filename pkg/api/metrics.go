package api

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// The results of an analysis run, as the workflow_analysis_total label.
const (
	resultOK          = "ok"
	resultReused      = "reused"
	resultRateLimited = "rate_limited"
	resultError       = "error"
	resultCanceled    = "canceled"
)

// activeWindow is how recently an account must have called the API to count as active.
const activeWindow = 5 * time.Minute

// analysisBuckets are the upper bounds of the analysis time histogram, in seconds: a workflow takes
// well under a millisecond, a 500-workflow location up to a quarter of a second.
var analysisBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// The business metrics, measured where the API does the work.
var (
	analysesTotal = metrics.NewCounterVec("workflow_analysis_total",
		"Analyses asked for, by the account's tier and result: ok (analysed and stored), reused (the stored analysis of an unchanged input), rate_limited (refused: the analyses per hour are used up), canceled (the client went away first) or error.",
		"tier", "result")
	analysisDuration = metrics.NewHistogram("analysis_duration_seconds",
		"Time the analyzer took to analyse one input: a location, or a posted document.",
		analysisBuckets)
	findingsTotal = metrics.NewCounterVec("findings_total",
		"Findings reported by new analyses (reused ones are not counted again), by severity.",
		"severity")
	computeRefused = metrics.NewCounter("compute_refused_total",
		"Imports and analyses refused with 503 because every computation slot of the instance stayed busy for the whole wait.")
	activeAccounts = metrics.NewActiveSet(activeWindow)
	_              = metrics.NewGauge("active_users",
		"Accounts that called the API with a valid key in the last five minutes, on this instance.",
		func() float64 { return float64(activeAccounts.Count()) })
	subscriptions = metrics.NewGaugeVec("subscriptions",
		"Accounts of each tier, counted in the database when metrics are scraped (at most every 15 seconds).",
		"tier")
)

func init() {
	// Every series exists from the start, at zero, so a dashboard's rate() sees the first event.
	for _, t := range tier.Names() {
		for _, result := range []string{resultOK, resultReused, resultRateLimited, resultCanceled, resultError} {
			analysesTotal.With(string(t), result)
		}
		subscriptions.With(string(t))
	}
	for _, severity := range []string{analyzer.SeverityError, analyzer.SeverityWarning, analyzer.SeverityInfo} {
		findingsTotal.With(severity)
	}
}

// countAnalysis counts one analysis run of an account of tier t for the request of ctx.
func countAnalysis(ctx context.Context, t store.Tier, reused bool, err error) {
	result := resultOK
	var p *Problem
	switch {
	case errors.As(err, &p) && p.Slug == kindRateLimited.slug:
		result = resultRateLimited
	case clientGone(ctx, err):
		result = resultCanceled
	case err != nil:
		result = resultError
	case reused:
		result = resultReused
	}
	analysesTotal.With(string(t), result).Inc()
}

// countFindings counts the findings of a new analysis by severity.
func countFindings(findings []analyzer.Finding) {
	for _, f := range findings {
		findingsTotal.With(f.Severity).Inc()
	}
}

// subscriptionRefresh is how often, at most, a scrape counts the accounts by tier again: scrapers
// of several Prometheus servers must not multiply the queries.
const subscriptionRefresh = 15 * time.Second

// subscriptionTimeout bounds the count, so a slow database cannot hold a scrape.
const subscriptionTimeout = 2 * time.Second

// subscriptionCounter updates the subscriptions gauges from the database before a scrape.
type subscriptionCounter struct {
	store interface {
		CountAccountsByTier(ctx context.Context) (map[store.Tier]int, error)
	}
	logger *slog.Logger

	mu   sync.Mutex
	last time.Time
}

// refresh counts the accounts by tier unless it did so within subscriptionRefresh. A failed count
// is logged and leaves the previous values, so a scrape still succeeds while the database is down.
func (c *subscriptionCounter) refresh(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.last) < subscriptionRefresh {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, subscriptionTimeout)
	defer cancel()
	counts, err := c.store.CountAccountsByTier(ctx)
	if err != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "count accounts by tier for metrics", slog.String("error", err.Error()))
		return
	}
	for t, n := range counts {
		subscriptions.With(string(t)).Set(float64(n))
	}
	c.last = time.Now()
}
