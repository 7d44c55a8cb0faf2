//go:build jobtest

package jobs

import (
	"context"
	"os"
	"time"
)

// init reads EnvTestAnalyzeDelay, in a binary built with the jobtest tag only.
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
