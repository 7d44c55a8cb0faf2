package api

import (
	"context"
	"database/sql"
	"time"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// GetDbStats reports the connection pool and the statements of each query family, for operators:
// it needs an admin account's key, and any other key is forbidden (the route is documented, so a
// 404 would hide nothing).
func (s *Server) GetDbStats(ctx context.Context, _ gen.GetDbStatsRequestObject) (gen.GetDbStatsResponseObject, error) {
	if _, err := adminPrincipal(ctx); err != nil {
		return nil, err
	}
	out := gen.DbStats{
		Engine:      gen.DbStatsEngine(s.store.Engine()),
		Pool:        toPoolStats(s.store.Stats()),
		QueryWindow: metrics.QueryWindow,
		Queries:     []gen.QueryFamilyStats{},
	}
	if readers, ok := s.store.ReaderStats(); ok {
		out.ReaderPool = new(toPoolStats(readers))
	}
	for _, q := range metrics.Queries() {
		mean := time.Duration(0)
		if q.Calls > 0 {
			mean = q.Total / time.Duration(q.Calls)
		}
		out.Queries = append(out.Queries, gen.QueryFamilyStats{
			Family: q.Family, Calls: int64(q.Calls), Errors: int64(q.Errors),
			TotalMs: milliseconds(q.Total), MeanMs: milliseconds(mean), Window: int32(q.Window),
			P50Ms: milliseconds(q.P50), P95Ms: milliseconds(q.P95), P99Ms: milliseconds(q.P99), MaxMs: milliseconds(q.Max),
		})
	}
	return gen.GetDbStats200JSONResponse{Body: out}, nil
}

// milliseconds converts d to milliseconds with microsecond precision.
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// toPoolStats converts a connection pool's statistics.
func toPoolStats(pool sql.DBStats) gen.DbPoolStats {
	return gen.DbPoolStats{
		MaxOpenConnections: int32(pool.MaxOpenConnections),
		OpenConnections:    int32(pool.OpenConnections),
		InUse:              int32(pool.InUse),
		Idle:               int32(pool.Idle),
		WaitCount:          pool.WaitCount,
		WaitDurationMs:     milliseconds(pool.WaitDuration),
		MaxIdleClosed:      pool.MaxIdleClosed,
		MaxIdleTimeClosed:  pool.MaxIdleTimeClosed,
		MaxLifetimeClosed:  pool.MaxLifetimeClosed,
	}
}
