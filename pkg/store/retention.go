package store

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long each tier's analyses are kept; 0 keeps them forever.
type Retention struct {
	Free       time.Duration
	Pro        time.Duration
	Enterprise time.Duration
}

// DefaultRetentionBatch is how many analyses (by age) one retention statement looks at when the
// caller passes 0: with their findings and per-workflow results a few tens of thousands of rows,
// which a statement deletes in well under the statement timeout, so that no statement holds its
// locks (on SQLite, the database's write lock) for long.
const DefaultRetentionBatch = 1000

// RetentionResult is what DeleteExpiredAnalyses did.
type RetentionResult struct {
	// Deleted is the number of analyses deleted; their findings and per-workflow results went with
	// them.
	Deleted int
	// Scanned is the number of analyses older than the scanUntil cut-off that were looked at; those
	// not deleted were kept by a rule (see DeleteExpiredAnalyses) or are of a tier whose cut-off is
	// later.
	Scanned int
	// Batches is the number of delete statements.
	Batches int
}

// zeroTime is the first cursor of the retention walk: before every analysis. Its text on SQLite,
// "0001-01-01 00:00:00+00:00", sorts before every stored time, as the time does on PostgreSQL.
var zeroTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// retentionKeys reads the keys of the next batch of analyses in age order after a cursor, up to the
// scanUntil cut-off. It is served by analyses_created_idx, read in order from the cursor and stopped
// after the batch, so a batch costs about its size whatever the table holds.
const retentionKeys = `SELECT created_at, id FROM analyses
WHERE (created_at, id) > (?, ?) AND created_at < ?
ORDER BY created_at, id LIMIT ?`

// retentionDelete deletes the analyses of one batch, a range of analyses_created_idx, that are older
// than their account tier's cut-off and that no rule keeps. The rules are checked in the statement
// itself, against what is committed when it runs, so an analysis that became the newest of
// something meanwhile is kept. An analysis is kept when:
//   - it is the last analysis of a stored workflow (workflows.last_analysis_id: what the workflow
//     list shows, which a reused older analysis can be);
//   - it is the newest analysis of the location scope of its location;
//   - it is the newest analysis that covered some workflow (its per-workflow result is the newest
//     of that workflow, deleted workflows included, so every workflow's history keeps its latest
//     entry).
//
// Each rule is a probe of an index per analysis of the batch: the newest location analysis is the
// first entry of the location in analyses_location_scope_idx, which holds the location-scope
// analyses only (written as ORDER BY ... LIMIT 1 rather than NOT EXISTS a newer one, which
// PostgreSQL planned as a scan of the location's analyses), a workflow's newest result is the first
// entry of
// analysis_workflows_history_idx, and the pointers are found through workflows_last_analysis_idx.
//
// The tier cut-offs are compared with created_at directly, so that PostgreSQL types the parameters
// from the column; an unlimited tier gets zeroTime, before every analysis.
const retentionDelete = `DELETE FROM analyses AS a
WHERE (a.created_at, a.id) > (?, ?) AND (a.created_at, a.id) <= (?, ?)
	AND EXISTS (SELECT 1 FROM accounts acc WHERE acc.id = a.account_id AND (
		(acc.tier = 'free' AND a.created_at < ?) OR (acc.tier = 'pro' AND a.created_at < ?)
		OR (acc.tier = 'enterprise' AND a.created_at < ?)))
	AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.last_analysis_id = a.id)
	AND NOT (a.scope = 'location' AND a.id = (SELECT n.id FROM analyses n
		WHERE n.location_id = a.location_id AND n.scope = 'location' ORDER BY n.created_at DESC, n.id DESC LIMIT 1))
	AND NOT EXISTS (SELECT 1 FROM analysis_workflows aw WHERE aw.analysis_id = a.id AND NOT EXISTS (
		SELECT 1 FROM analysis_workflows n WHERE n.location_id = aw.location_id AND n.workflow_id = aw.workflow_id
			AND (n.created_at, n.analysis_id) > (aw.created_at, aw.analysis_id)))`

// DeleteExpiredAnalyses deletes the analyses older than their account tier's retention in r, except
// those a rule keeps (see retentionDelete): the newest analysis of every workflow and of every
// location's location scope stays whatever its age. It walks the analyses scanUntil first, batch at a
// time (0 means DefaultRetentionBatch), each batch one read of its keys and one delete in a
// transaction of its own, so that it never holds locks for long and other writes run between the
// batches; it stops at the scanUntil cut-off. A tier with a retention of 0 keeps everything.
//
// It returns what it did until it stopped, with the error that stopped it: a cancelled ctx stops it
// between two batches, and the batches done stay done. Running it again continues where the
// analyses now start, so a retention job that fails part way can simply be retried.
func (db *DB) DeleteExpiredAnalyses(ctx context.Context, r Retention, batch int) (RetentionResult, error) {
	var res RetentionResult
	if batch == 0 {
		batch = DefaultRetentionBatch
	}
	if batch < 1 || r.Free < 0 || r.Pro < 0 || r.Enterprise < 0 {
		return res, fmt.Errorf("delete expired analyses: %w: batch %d, retention %+v", ErrInvalid, batch, r)
	}
	now := db.now()
	cutoff := func(d time.Duration) time.Time {
		if d == 0 {
			return zeroTime
		}
		return now.Add(-d)
	}
	free, pro, enterprise := cutoff(r.Free), cutoff(r.Pro), cutoff(r.Enterprise)
	scanUntil := free
	for _, t := range []time.Time{pro, enterprise} {
		if t.After(scanUntil) {
			scanUntil = t
		}
	}
	if scanUntil.Equal(zeroTime) {
		return res, nil
	}
	type key struct {
		CreatedAt time.Time `db:"created_at"`
		ID        string    `db:"id"`
	}
	after := key{CreatedAt: zeroTime}
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("delete expired analyses: %w", err)
		}
		var keys []key
		if err := db.list(ctx, famAnalysesRetentionScan, &keys, retentionKeys, after.CreatedAt, after.ID, scanUntil, batch); err != nil {
			return res, fmt.Errorf("delete expired analyses: read a batch: %w", err)
		}
		if len(keys) == 0 {
			return res, nil
		}
		last := keys[len(keys)-1]
		out, err := db.exec(ctx, famAnalysesRetentionDelete, retentionDelete, after.CreatedAt, after.ID, last.CreatedAt, last.ID,
			free, pro, enterprise)
		if err != nil {
			return res, fmt.Errorf("delete expired analyses: delete a batch: %w", err)
		}
		n, err := out.RowsAffected()
		if err != nil {
			return res, fmt.Errorf("delete expired analyses: count a batch: %w", err)
		}
		res.Deleted += int(n)
		res.Scanned += len(keys)
		res.Batches++
		if len(keys) < batch {
			return res, nil
		}
		after = last
	}
}
