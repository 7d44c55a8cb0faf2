//go:build jobtest

package jobs

import (
	"context"
	"os"
	"time"
)

// EnvTestAnalyzeDelay names the variable that, in a binary built with the jobtest tag, makes every
// attempt of an analyze_location job wait that long (a Go duration) before it analyses, so that the
// end-to-end tests can kill the process while a job runs. The service's binary has no such tag and
// never reads it.
const EnvTestAnalyzeDelay = "GHLD_JOBTEST_ANALYZE_DELAY"

func init() {
	d, err := time.ParseDuration(os.Getenv(EnvTestAnalyzeDelay))
	if err != nil || d <= 0 {
		return
	}
	beforeAnalyze = func(ctx context.Context, _ int) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
