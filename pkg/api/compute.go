package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/sync/semaphore"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// Defaults of the bounds on what analyses and imports may cost, used when Config leaves them zero.
const (
	// DefaultAnalysisTimeout is the deadline of one analysis: well under the server's default
	// write timeout (60 s), so the caller always gets an answer, and far above what the largest
	// document the limits admit takes (about a second).
	DefaultAnalysisTimeout = 20 * time.Second
	// DefaultComputeWait is how long a request waits for a computation slot before it is
	// refused with 503.
	DefaultComputeWait = 2 * time.Second
)

// computeLimiter bounds how many document computations (importing, analysing) run at once, so
// that memory stays bounded however many requests arrive together: each one holds a decoded
// document and its analysis while it runs. A request that finds every slot taken waits a short
// while, then gets 503 with Retry-After.
type computeLimiter struct {
	slots *semaphore.Weighted
	wait  time.Duration
}

func newComputeLimiter(slots int, wait time.Duration) *computeLimiter {
	return &computeLimiter{slots: semaphore.NewWeighted(int64(slots)), wait: wait}
}

// do runs fn in a computation slot. It returns the overloaded problem when no slot frees up within
// the wait, and the caller's error when the caller goes away while waiting.
func (l *computeLimiter) do(ctx context.Context, fn func() error) error {
	waitCtx, cancel := context.WithTimeout(ctx, l.wait)
	err := l.slots.Acquire(waitCtx, 1)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for a computation slot: %w", ctx.Err())
		}
		computeRefused.Inc()
		p := newProblem(kindOverloaded, fmt.Sprintf("The service is computing as many analyses and imports as it can; try again in %d seconds.", retryAfterSeconds(l.wait)), nil)
		p.RetryAfter = retryAfterSeconds(l.wait)
		return p
	}
	defer l.slots.Release(1)
	return fn()
}

// analysisTimedOut is the problem of an analysis that ran past its deadline, or err as it is.
func analysisTimedOut(err error, timeout time.Duration) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	p := newProblem(kindAnalysisTimeout, fmt.Sprintf("The analysis did not finish within %s, the deadline of one request; nothing was stored.", timeout), err)
	p.RetryAfter = retryAfterSeconds(timeout / 4)
	return p
}

// opAnalyzeLocation is the operation id of the analysis of a location's stored workflows.
const opAnalyzeLocation = "AnalyzeLocation"

// The operation ids of simulations, which run the engine in the request.
const (
	opSimulateLocation = "SimulateLocation"
	opSimulateDocument = "SimulateDocument"
)

// limitCompute is a strict-handler middleware that runs the operations that spend CPU time in
// proportion to what they are given (imports, analyses, simulations and rendered reports) in a
// computation slot, so a burst of them queues instead of starving every other request.
func (s *Server) limitCompute(next gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	switch operationID {
	case opImportWorkflows, opAnalyzeDocument, opAnalyzeLocation, opSimulateLocation, opSimulateDocument,
		opGetAnalysisReport, opGetDiffReport:
	default:
		return next
	}
	return func(c *echo.Context, request any) (response any, err error) {
		err = s.compute.do(c.Request().Context(), func() error {
			response, err = next(c, request)
			return err
		})
		return response, err
	}
}
