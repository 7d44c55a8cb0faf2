package store_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// BenchmarkReusedAnalysis measures what the store does for a location analysis answered with a
// stored result (reused: true): FindAnalysis, then PointLastAnalysis, from 32 concurrent callers,
// on a location of 76 workflows (the size of the sample bundle), on every engine of storetest.
//
//   - reused: the analysis already is the workflows' last, the usual case. PointLastAnalysis reads
//     and writes nothing.
//   - repointed: every call moves the workflows' last analysis (between two analyses), so each one
//     writes the 76 rows, as every reused request did before PointLastAnalysis learned to skip an
//     unchanged pointer. It is the reference the reused case is measured against.
//
// Besides ns/op (wall time per call, with 32 in flight) it reports the p50 and p99 latency of one
// call as p50-ms and p99-ms. PostgreSQL runs when storetest.EnvDatabaseURL is set:
//
//	GHLD_TEST_DATABASE_URL=postgres://... go test ./pkg/store -run '^$' -bench BenchmarkReusedAnalysis -count 1
func BenchmarkReusedAnalysis(b *testing.B) {
	const workflows, callers = 76, 32
	for _, engine := range storetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			// The server's pool size (GHLD_DB_MAX_CONNS), not storetest's.
			databaseURL, dataDir := storetest.DSN(b, engine)
			db := mustOpen(b, store.Config{DatabaseURL: databaseURL, DataDir: dataDir, MaxOpenConns: 10})
			require.NoError(b, db.Migrate(b.Context()))
			acc := mustCreateAccount(b, db, "Bench Agency")
			loc := mustCreateLocation(b, db, acc.ID, "g1")
			imported := make([]store.ImportedWorkflow, workflows)
			for i := range imported {
				imported[i] = importedWorkflow(fmt.Sprintf("wf-%d", i), fmt.Sprintf("Workflow %d", i), "published")
			}
			wfs := mustImport(b, db, acc.ID, loc.ID, nil, imported...).Workflows
			older := mustCreateAnalysis(b, db, acc.ID, locationAnalysis(loc.ID, wfs...))
			last := mustCreateAnalysis(b, db, acc.ID, locationAnalysis(loc.ID, wfs...))

			variants := []struct {
				name string
				// target returns the analysis that the i-th call reuses.
				target func(i int) store.Analysis
			}{
				{name: "reused", target: func(int) store.Analysis { return last }},
				{name: "repointed", target: func(i int) store.Analysis {
					if i%2 == 0 {
						return older
					}
					return last
				}},
			}
			for _, v := range variants {
				b.Run(v.name, func(b *testing.B) {
					require.NoError(b, db.PointLastAnalysis(b.Context(), acc.ID, last.ID))
					runParallelTimed(b, callers, func(i int) error {
						a := v.target(i)
						found, err := db.FindAnalysis(b.Context(), acc.ID, loc.ID, store.ScopeLocation, "", a.ContentHash, a.AnalyzerVersion)
						if err != nil {
							return err
						}
						return db.PointLastAnalysis(b.Context(), acc.ID, found.ID)
					})
				})
			}
		})
	}
}
