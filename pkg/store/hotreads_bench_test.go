package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// BenchmarkHotReads measures the reads that every request or page makes, on every engine of
// storetest, side by side with the store as it was before prepared statements and SQLite's readers:
//
//   - authenticate: AuthenticateAPIKey of a key used within the minute (a read only);
//   - get_analysis: GetAnalysis of a location analysis with a 3.5 KB report;
//   - list_workflows: the first page of ListWorkflows on a location of 76 workflows;
//   - history: the first page of ListAnalyses on a location of 60 analyses;
//   - get_analysis_during_writes: GetAnalysis while another goroutine of the same DB keeps a write
//     transaction open most of the time (1 ms of every 1.2 ms or so).
//
// Each runs serially (one caller) and in parallel (32 callers), and each of those on the same data
// with three configurations of the store, one after the other:
//
//   - reference: no prepared statements, one SQLite connection for everything (the store before);
//   - prepared: prepared statements, one SQLite connection;
//   - readers: prepared statements and SQLite's read-only pool (the store now). PostgreSQL has no
//     readers, so it runs reference and prepared only.
//
// Besides ns/op (wall time per call; with 32 in flight, the inverse of throughput) it reports the
// p50 and p99 latency of one call as p50-ms and p99-ms. Compare the configurations of one line:
//
//	GHLD_TEST_DATABASE_URL=postgres://... go test ./pkg/store -run '^$' -bench BenchmarkHotReads -count 1
func BenchmarkHotReads(b *testing.B) {
	for _, engine := range storetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			databaseURL, dataDir := storetest.DSN(b, engine)
			// The server's pool size (GHLD_DB_MAX_CONNS) on PostgreSQL.
			base := store.Config{DatabaseURL: databaseURL, DataDir: dataDir, MaxOpenConns: 10}
			configs := []struct {
				name string
				cfg  store.Config
			}{
				{name: "reference", cfg: store.WithoutReaders(store.WithoutPreparedStatements(base))},
				{name: "prepared", cfg: store.WithoutReaders(base)},
			}
			if engine == store.EngineSQLite {
				configs = append(configs, struct {
					name string
					cfg  store.Config
				}{name: "readers", cfg: base})
			}
			dbs := make([]*store.DB, len(configs))
			for i, c := range configs {
				dbs[i] = mustOpen(b, c.cfg)
				if i == 0 {
					require.NoError(b, dbs[0].Migrate(b.Context()))
				}
				// A stopped clock: the key's use is recorded once, and every later authentication
				// only reads.
				mustFakeClock(b, dbs[i])
			}
			seed := mustSeedHotReads(b, dbs[0])

			for _, op := range seed.ops() {
				modes := []string{"serial", "parallel"}
				if op.duringWrites {
					modes = []string{"parallel"}
				}
				for _, mode := range modes {
					for i, c := range configs {
						b.Run(op.name+"/"+mode+"/"+c.name, func(b *testing.B) {
							db := dbs[i]
							if op.duringWrites {
								stop := startWriter(b, db, seed)
								defer stop()
							}
							runHotRead(b, mode == "parallel", func(ctx context.Context) error { return op.read(ctx, db) })
						})
					}
				}
			}
		})
	}
}

// hotReadSeed is the data the hot reads find.
type hotReadSeed struct {
	accountID, hash, locationID, analysisID string
}

// hotRead is one read of the benchmark.
type hotRead struct {
	name string
	read func(ctx context.Context, db *store.DB) error
	// duringWrites runs the read while a writer keeps transactions open on the same DB.
	duringWrites bool
}

func (s hotReadSeed) ops() []hotRead {
	getAnalysis := func(ctx context.Context, db *store.DB) error {
		_, err := db.GetAnalysis(ctx, s.accountID, s.analysisID)
		return err
	}
	return []hotRead{
		{name: "authenticate", read: func(ctx context.Context, db *store.DB) error {
			_, _, err := db.AuthenticateAPIKey(ctx, s.hash)
			return err
		}},
		{name: "get_analysis", read: getAnalysis},
		{name: "list_workflows", read: func(ctx context.Context, db *store.DB) error {
			wfs, _, err := db.ListWorkflows(ctx, s.accountID, s.locationID, "", store.Page{})
			if err == nil && len(wfs) != store.DefaultPageLimit {
				err = fmt.Errorf("a page of %d workflows", len(wfs))
			}
			return err
		}},
		{name: "history", read: func(ctx context.Context, db *store.DB) error {
			page, _, err := db.ListAnalyses(ctx, s.accountID, s.locationID, store.HistoryFilter{}, store.Page{})
			if err == nil && len(page) != store.DefaultPageLimit {
				err = fmt.Errorf("a page of %d analyses", len(page))
			}
			return err
		}},
		{name: "get_analysis_during_writes", read: getAnalysis, duringWrites: true},
	}
}

// mustSeedHotReads stores an account with a key, a location of 76 workflows (the size of the sample
// bundle) and 60 analyses of it, each with a 3.5 KB report.
func mustSeedHotReads(tb testing.TB, db *store.DB) hotReadSeed {
	tb.Helper()
	const workflows, analyses = 76, 60
	ctx := tb.Context()
	acc := mustCreateAccount(tb, db, "Bench Agency")
	s := hotReadSeed{accountID: acc.ID, hash: randomHash(tb)}
	_, err := db.CreateAPIKey(ctx, acc.ID, "bench", s.hash, "ghld_b")
	require.NoError(tb, err)
	loc := mustCreateLocation(tb, db, acc.ID, "g1")
	s.locationID = loc.ID
	imported := make([]store.ImportedWorkflow, workflows)
	for i := range imported {
		imported[i] = importedWorkflow(fmt.Sprintf("wf-%d", i), fmt.Sprintf("Workflow %d", i), "published")
	}
	wfs := mustImport(tb, db, acc.ID, loc.ID, nil, imported...).Workflows
	for range analyses {
		in := locationAnalysis(loc.ID, wfs...)
		in.Report = benchReport(tb)
		s.analysisID = mustCreateAnalysis(tb, db, acc.ID, in).ID
	}
	return s
}

// benchReport returns a report of about 3.5 KB, the size of the sample's analysis.
func benchReport(tb testing.TB) json.RawMessage {
	tb.Helper()
	type finding struct {
		RuleID, Severity, WorkflowID, Message string
	}
	var findings []finding
	for i := range 24 {
		findings = append(findings, finding{RuleID: fmt.Sprintf("WD%03d", i), Severity: "warning",
			WorkflowID: fmt.Sprintf("wf-%d", i), Message: strings.Repeat("m", 80)})
	}
	doc, err := json.Marshal(map[string]any{"findings": findings, "coverage": map[string]int{"read": 76}})
	require.NoError(tb, err)
	require.InDelta(tb, 3500, len(doc), 500)
	return doc
}

// startWriter keeps write transactions open on db, each for a millisecond, until stop is called:
// it adds a location in each and rolls it back, so the data the reads find stays the same.
func startWriter(b *testing.B, db *store.DB, s hotReadSeed) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var txs atomic.Int64
	errRollback := errors.New("roll back on purpose")
	wg.Go(func() {
		for ctx.Err() == nil {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.CreateLocation(ctx, s.accountID, store.NewLocation{GHLLocationID: "writer", Name: "Writer"}); err != nil {
					return err
				}
				time.Sleep(time.Millisecond)
				return errRollback
			})
			if !errors.Is(err, errRollback) && ctx.Err() == nil {
				b.Error(err)
				return
			}
			txs.Add(1)
			// A pause between transactions, as between requests, so that a single connection
			// that reads and writes gets to read at all.
			time.Sleep(200 * time.Microsecond)
		}
	})
	return func() {
		cancel()
		wg.Wait()
		b.ReportMetric(float64(txs.Load())/b.Elapsed().Seconds(), "write-tx/s")
	}
}

// runHotRead runs read b.N times, by one caller or by 32 at once, and reports its latency.
func runHotRead(b *testing.B, parallel bool, read func(ctx context.Context) error) {
	ctx := b.Context()
	if !parallel {
		latencies := make([]time.Duration, 0, 4096)
		for b.Loop() {
			t0 := time.Now()
			err := read(ctx)
			latencies = append(latencies, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
		}
		reportLatency(b, latencies)
		return
	}
	runParallelTimed(b, 32, func(int) error { return read(ctx) })
}
