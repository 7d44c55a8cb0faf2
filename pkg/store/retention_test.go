package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestDeleteExpiredAnalyses seeds a history whose every analysis is deleted or kept for one known
// reason, runs the retention in batches of two, and requires exactly the expected survivors.
func TestDeleteExpiredAnalyses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		now := clock.now()
		const day = 24 * time.Hour
		// at creates an analysis age ago and records whether the retention must keep it.
		keep, drop := map[string]string{}, map[string]string{}
		at := func(age time.Duration, accountID string, in store.NewAnalysis, kept bool, why string) store.Analysis {
			t.Helper()
			clock.mu.Lock()
			clock.t = now.Add(-age)
			clock.mu.Unlock()
			a := mustCreateAnalysis(t, db, accountID, in)
			if kept {
				keep[a.ID] = why
			} else {
				drop[a.ID] = why
			}
			return a
		}

		free := mustCreateAccount(t, db, "Free Agency")
		l1 := mustCreateLocation(t, db, free.ID, "g1")
		out := mustImport(t, db, free.ID, l1.ID, nil,
			importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"), importedWorkflow("wf-c", "C", "draft"))
		wa, wb, wc := out.Workflows[0], out.Workflows[1], out.Workflows[2]
		at(100*day, free.ID, locationAnalysis(l1.ID, wa, wb), false, "old and superseded in every way")
		at(90*day, free.ID, workflowAnalysis(l1.ID, wa, 1), false, "an older workflow analysis of wa")
		at(60*day, free.ID, documentAnalysis(l1.ID, "WD001"), false, "an old document analysis in the location")
		at(40*day, free.ID, documentAnalysis("", "WD001"), false, "an old document analysis alone")
		at(50*day, free.ID, locationAnalysis(l1.ID, wb, wa), true, "the newest analysis that covered wb")
		at(35*day, free.ID, locationAnalysis(l1.ID, wa), true, "the newest location analysis of l1")
		h1 := at(80*day, free.ID, workflowAnalysis(l1.ID, wc, 2), true, "wc's last analysis, pointed to again")
		at(70*day, free.ID, workflowAnalysis(l1.ID, wc, 3), true, "the newest analysis that covered wc")
		require.NoError(t, db.PointLastAnalysis(ctx, free.ID, h1.ID))
		at(10*day, free.ID, documentAnalysis(l1.ID, "WD002"), true, "younger than 30 days")
		at(30*day, free.ID, documentAnalysis("", "WD003"), true, "exactly 30 days old")
		at(30*day+time.Microsecond, free.ID, documentAnalysis("", "WD004"), false, "just over 30 days old")
		// A location whose analyses cover no stored workflow: only the location-scope rule keeps one.
		l2 := mustCreateLocation(t, db, free.ID, "g2")
		at(200*day, free.ID, locationAnalysis(l2.ID), false, "an older location analysis of l2")
		at(100*day, free.ID, locationAnalysis(l2.ID), true, "the newest location analysis of l2")

		pro, err := db.CreateAccount(ctx, "Pro Agency", store.TierPro, false)
		require.NoError(t, err)
		lp := mustCreateLocation(t, db, pro.ID, "gp")
		wp := mustImport(t, db, pro.ID, lp.ID, nil, importedWorkflow("wf-p", "P", "published")).Workflows[0]
		at(400*day, pro.ID, locationAnalysis(lp.ID, wp), false, "over a year old and superseded")
		at(100*day, pro.ID, locationAnalysis(lp.ID, wp), true, "newest of lp and under a year old")
		at(500*day, pro.ID, documentAnalysis("", "WD001"), false, "a pro document over a year old")
		at(300*day, pro.ID, documentAnalysis("", "WD001"), true, "a pro document under a year old")

		enterprise, err := db.CreateAccount(ctx, "Big Agency", store.TierEnterprise, false)
		require.NoError(t, err)
		old := at(1000*day, enterprise.ID, documentAnalysis("", "WD001"), true, "enterprise keeps everything")
		clock.mu.Lock()
		clock.t = now
		clock.mu.Unlock()

		before := mustCount(t, db, "findings")
		res, err := db.DeleteExpiredAnalyses(ctx, store.Retention{Free: 30 * day, Pro: 365 * day}, 2)
		require.NoError(t, err)
		require.Equal(t, len(drop), res.Deleted)
		require.Greater(t, res.Batches, 1, "the walk takes several batches")
		for id, why := range keep {
			require.Equal(t, 1, mustCountWhere(t, db, "analyses", "id", id), "kept: %s", why)
		}
		for id, why := range drop {
			require.Zero(t, mustCountWhere(t, db, "analyses", "id", id), "deleted: %s", why)
			require.Zero(t, mustCountWhere(t, db, "findings", "analysis_id", id), "its findings went with it: %s", why)
			require.Zero(t, mustCountWhere(t, db, "analysis_workflows", "analysis_id", id), "its results went with it: %s", why)
		}
		require.Equal(t, len(keep), mustCount(t, db, "analyses"))
		require.Less(t, mustCount(t, db, "findings"), before)
		for _, w := range []store.Workflow{wa, wb, wc} {
			got := mustGetWorkflow(t, db, free.ID, l1.ID, w.ID)
			require.NotNil(t, got.LastAnalysis, "workflow %s keeps its last analysis", w.GHLWorkflowID)
			require.Contains(t, keep, got.LastAnalysis.ID)
		}
		require.Equal(t, h1.ID, mustGetWorkflow(t, db, free.ID, l1.ID, wc.ID).LastAnalysis.ID)

		// A second run finds nothing more to do.
		res, err = db.DeleteExpiredAnalyses(ctx, store.Retention{Free: 30 * day, Pro: 365 * day}, 0)
		require.NoError(t, err)
		require.Zero(t, res.Deleted)

		// Enterprise is unlimited unless configured.
		res, err = db.DeleteExpiredAnalyses(ctx, store.Retention{Free: 30 * day, Pro: 365 * day, Enterprise: 900 * day}, 0)
		require.NoError(t, err)
		require.Equal(t, 1, res.Deleted)
		require.Zero(t, mustCountWhere(t, db, "analyses", "id", old.ID))
	})
}

// TestDeleteExpiredAnalysesArguments checks that no retention deletes nothing, and that a negative
// retention or batch is refused.
func TestDeleteExpiredAnalysesArguments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		a := mustCreateAnalysis(t, db, acc.ID, documentAnalysis("", "WD001"))
		clock.advance(10 * 365 * 24 * time.Hour)

		res, err := db.DeleteExpiredAnalyses(ctx, store.Retention{}, 0)
		require.NoError(t, err)
		require.Equal(t, store.RetentionResult{}, res)
		require.Equal(t, 1, mustCountWhere(t, db, "analyses", "id", a.ID))

		for _, tc := range []struct {
			name  string
			r     store.Retention
			batch int
		}{
			{name: "negative batch", r: store.Retention{Free: time.Hour}, batch: -1},
			{name: "negative retention", r: store.Retention{Free: -time.Hour}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := db.DeleteExpiredAnalyses(ctx, tc.r, tc.batch)
				require.ErrorIs(t, err, store.ErrInvalid)
			})
		}

		// A cancelled context stops the walk before a batch.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = db.DeleteExpiredAnalyses(cancelled, store.Retention{Free: time.Hour}, 0)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, mustCountWhere(t, db, "analyses", "id", a.ID))
	})
}
