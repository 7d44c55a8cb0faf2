package jobs

import (
	"database/sql"

	"github.com/riverqueue/river"
)

// WithRegister returns cfg with register adding the tests' own workers and periodic jobs (a no-op
// kind for the benchmark, a blocking one for shutdown) beside the service's.
func WithRegister(cfg Config, register func(*river.Workers) []*river.PeriodicJob) Config {
	cfg.register = register
	return cfg
}

// Client returns the queue's River client, for the tests that insert their own kinds.
func Client(q *Queue) *river.Client[*sql.Tx] { return q.client }
