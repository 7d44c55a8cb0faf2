package store

import (
	"database/sql"
	"sync"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// openPools holds the connection pool of every open DB, so the pool gauges describe the process's
// connections whichever code opened them (the server opens one; tests open many).
var openPools sync.Map // *sql.DB -> struct{}

var (
	_ = metrics.NewGauge("database_connections_active",
		"Database connections running a statement or holding a transaction now.",
		poolGauge(func(s sql.DBStats) int { return s.InUse }))
	_ = metrics.NewGauge("database_connections_idle",
		"Open database connections waiting in the pool for work.",
		poolGauge(func(s sql.DBStats) int { return s.Idle }))
)

// poolGauge sums one statistic over every open pool.
func poolGauge(stat func(sql.DBStats) int) func() float64 {
	return func() float64 {
		total := 0
		openPools.Range(func(pool, _ any) bool {
			total += stat(pool.(*sql.DB).Stats())
			return true
		})
		return float64(total)
	}
}
