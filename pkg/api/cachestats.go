package api

import (
	"context"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
)

// GetCacheStats reports this instance's two-level cache, for operators: it needs an admin account's
// key, and any other key is forbidden.
func (s *Server) GetCacheStats(ctx context.Context, _ gen.GetCacheStatsRequestObject) (gen.GetCacheStatsResponseObject, error) {
	if _, err := adminPrincipal(ctx); err != nil {
		return nil, err
	}
	st := s.cache.Stats()
	out := gen.CacheStats{
		L1: gen.CacheL1Stats{
			Entries: int64(st.L1.Entries), Bytes: st.L1.Bytes, MaxBytes: st.L1.MaxBytes, Evictions: int64(st.L1.Evictions),
		},
		L2:    toCacheL2(st.L2.State, st.L2.Breaker),
		Kinds: make([]gen.CacheKindStats, 0, len(st.Kinds)),
	}
	for _, k := range st.Kinds {
		out.Kinds = append(out.Kinds, gen.CacheKindStats{
			Kind: k.Kind.String(), L1: toLevelCounts(k.L1), L2: toLevelCounts(k.L2),
			Fills: int64(k.Fills), FillErrors: int64(k.FillErrors),
		})
	}
	return gen.GetCacheStats200JSONResponse{Body: out}, nil
}

// toCacheL2 describes the shared level; without Redis it is disabled and its breaker closed.
func toCacheL2(state cache.L2State, breaker cache.BreakerState) gen.CacheL2Stats {
	out := gen.CacheL2Stats{
		Configured: state != cache.L2Disabled,
		State:      gen.CacheL2StatsState(state),
		Breaker:    gen.CacheL2StatsBreaker(breaker),
	}
	if breaker == "" {
		out.Breaker = gen.CacheL2StatsBreakerClosed
	}
	return out
}

// toLevelCounts converts one level's counts.
func toLevelCounts(l cache.LevelStats) gen.CacheLevelCounts {
	return gen.CacheLevelCounts{Hits: int64(l.Hits), Misses: int64(l.Misses), HitRatio: l.HitRatio}
}
