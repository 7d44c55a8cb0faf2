package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// analysisPrefix starts every analysis id.
const analysisPrefix = "ana_"

// rowBatch is how many findings or per-workflow results one insert statement writes: 500 rows of 10
// values stay below both engines' limits on parameters.
const rowBatch = 500

// analysisRow is an analyses row as the drivers scan it; report is only selected by the methods
// that return it.
type analysisRow struct {
	ID              string    `db:"id"`
	LocationID      *string   `db:"location_id"`
	Scope           string    `db:"scope"`
	WorkflowID      *string   `db:"workflow_id"`
	ContentHash     string    `db:"content_hash"`
	AnalyzerVersion string    `db:"analyzer_version"`
	Grade           string    `db:"grade"`
	Score           int       `db:"score"`
	Errors          int       `db:"errors"`
	Warnings        int       `db:"warnings"`
	Infos           int       `db:"infos"`
	MaxSeverity     int       `db:"max_severity"`
	CreatedAt       time.Time `db:"created_at"`
	Report          []byte    `db:"report"`
}

// analysisColumns are the summary's columns; report comes last in the table and is added by the
// queries that need it.
const analysisColumns = `a.id, a.location_id, a.scope, a.workflow_id, a.content_hash, a.analyzer_version,
	a.grade, a.score, a.errors, a.warnings, a.infos, a.max_severity, a.created_at`

// analysis converts the row, normalizing times to UTC.
func (r analysisRow) analysis() Analysis {
	return Analysis{
		AnalysisSummary: AnalysisSummary{
			ID:              r.ID,
			LocationID:      deref(r.LocationID),
			Scope:           r.Scope,
			WorkflowID:      deref(r.WorkflowID),
			ContentHash:     r.ContentHash,
			AnalyzerVersion: r.AnalyzerVersion,
			Grade:           r.Grade,
			Score:           r.Score,
			Errors:          r.Errors,
			Warnings:        r.Warnings,
			Infos:           r.Infos,
			MaxSeverity:     r.MaxSeverity,
			CreatedAt:       r.CreatedAt.UTC(),
		},
		Report: json.RawMessage(r.Report),
	}
}

// nullIfEmpty stores "" as NULL, for the optional references.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateAnalysis stores an analysis of an account in one transaction: the analysis, its findings, its
// per-workflow results, and the last analysis of each workflow it covered (unless that workflow
// already has a newer one). Workflows are named by id without a reference: a result for a workflow
// deleted meanwhile is stored, and there is no workflow row to update.
//
// It returns ErrNotFound when the account does not exist or has no location in.LocationID,
// ErrConflict when the account already has an analysis with the same key (FindAnalysis returns it)
// and ErrInvalid when in breaks a rule: an unknown scope; a location missing for the location and
// workflow scopes; WorkflowID set for a scope other than workflow, or missing for it; a report that is
// not JSON; a content hash that is not 64 lower-case hex digits; a score out of 0..100; a grade other
// than A, B, C, D or F; negative counts; a MaxSeverity that is not the rank of the most serious count;
// an unknown finding severity; per-workflow results without a location, or naming a workflow twice.
// On a Tx, an error leaves the transaction for the caller to roll back.
func (q *queries) CreateAnalysis(ctx context.Context, accountID string, in NewAnalysis) (Analysis, error) {
	if err := validateAnalysis(in); err != nil {
		return Analysis{}, fmt.Errorf("create analysis: %w", err)
	}
	a := Analysis{
		AnalysisSummary: AnalysisSummary{
			ID: newID(analysisPrefix), LocationID: in.LocationID, Scope: in.Scope, WorkflowID: in.WorkflowID,
			ContentHash: in.ContentHash, AnalyzerVersion: in.AnalyzerVersion, Grade: in.Grade, Score: in.Score,
			Errors: in.Errors, Warnings: in.Warnings, Infos: in.Infos, MaxSeverity: in.MaxSeverity, CreatedAt: q.now(),
		},
		Report: in.Report,
	}
	err := q.atomic(ctx, func(q *queries) error {
		if in.LocationID != "" {
			if err := q.checkLocation(ctx, accountID, in.LocationID); err != nil {
				return err
			}
		}
		const insert = `INSERT INTO analyses (id, account_id, location_id, scope, workflow_id, content_hash,
	analyzer_version, grade, score, errors, warnings, infos, max_severity, created_at, report)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		if _, err := q.exec(ctx, famAnalysesCreate, insert, a.ID, accountID, nullIfEmpty(a.LocationID), a.Scope, nullIfEmpty(a.WorkflowID),
			a.ContentHash, a.AnalyzerVersion, a.Grade, a.Score, a.Errors, a.Warnings, a.Infos, a.MaxSeverity,
			a.CreatedAt, jsonArg(a.Report)); err != nil {
			return err
		}
		if err := q.insertFindings(ctx, a.AnalysisSummary, in.Findings); err != nil {
			return err
		}
		if len(in.PerWorkflow) == 0 {
			return nil
		}
		if err := q.insertWorkflowResults(ctx, a.AnalysisSummary, in.PerWorkflow); err != nil {
			return err
		}
		return q.updateLastAnalysis(ctx, a.ID)
	})
	if err != nil {
		return Analysis{}, fmt.Errorf("create analysis: %w", err)
	}
	return a, nil
}

// validateAnalysis checks what the schema cannot check, or cannot check with a useful message: the
// scope's rules, the report's syntax and the per-workflow results' ids.
func validateAnalysis(in NewAnalysis) error {
	switch in.Scope {
	case ScopeLocation, ScopeWorkflow:
		if in.LocationID == "" {
			return fmt.Errorf("%w: a %s analysis needs a location", ErrInvalid, in.Scope)
		}
	case ScopeDocument:
	default:
		return fmt.Errorf("%w: unknown scope %q", ErrInvalid, in.Scope)
	}
	if (in.Scope == ScopeWorkflow) != (in.WorkflowID != "") {
		return fmt.Errorf("%w: a workflow id goes with the workflow scope, and only with it", ErrInvalid)
	}
	if in.WorkflowID != "" && !validID(workflowPrefix, in.WorkflowID) {
		return fmt.Errorf("%w: malformed workflow id %q", ErrInvalid, in.WorkflowID)
	}
	if !json.Valid(in.Report) {
		return fmt.Errorf("%w: report is not JSON", ErrInvalid)
	}
	if len(in.PerWorkflow) > 0 && in.LocationID == "" {
		return fmt.Errorf("%w: per-workflow results need a location", ErrInvalid)
	}
	seen := make(map[string]bool, len(in.PerWorkflow))
	for _, r := range in.PerWorkflow {
		if !validID(workflowPrefix, r.WorkflowID) {
			return fmt.Errorf("%w: malformed workflow id %q in per-workflow results", ErrInvalid, r.WorkflowID)
		}
		if seen[r.WorkflowID] {
			return fmt.Errorf("%w: workflow %s has two per-workflow results", ErrInvalid, r.WorkflowID)
		}
		seen[r.WorkflowID] = true
	}
	return nil
}

// insertFindings writes the findings of analysis a, marking the first finding of each rule.
func (q *queries) insertFindings(ctx context.Context, a AnalysisSummary, findings []FindingRow) error {
	seen := make(map[string]bool)
	for start := 0; start < len(findings); start += rowBatch {
		chunk := findings[start:min(start+rowBatch, len(findings))]
		args := make([]any, 0, len(chunk)*10)
		for i, f := range chunk {
			first := !seen[f.RuleID]
			seen[f.RuleID] = true
			args = append(args, a.ID, start+i, nullIfEmpty(a.LocationID), a.CreatedAt, f.RuleID, f.Severity,
				f.WorkflowID, f.StepID, first, a.MaxSeverity)
		}
		query := `INSERT INTO findings (analysis_id, ordinal, location_id, created_at, rule_id, severity, workflow_id,
	step_id, first_of_rule, analysis_max_severity) VALUES ` + placeholders(len(chunk), 10)
		if _, err := q.exec(ctx, famAnalysesInsertFindings, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// insertWorkflowResults writes the per-workflow results of analysis a.
func (q *queries) insertWorkflowResults(ctx context.Context, a AnalysisSummary, results []WorkflowResult) error {
	for chunk := range slices.Chunk(results, rowBatch) {
		args := make([]any, 0, len(chunk)*11)
		for _, r := range chunk {
			args = append(args, a.ID, r.WorkflowID, a.LocationID, a.CreatedAt, r.Score, r.Grade, r.Errors, r.Warnings,
				r.Infos, a.MaxSeverity, r.GHLVersion)
		}
		query := `INSERT INTO analysis_workflows (analysis_id, workflow_id, location_id, created_at, score, grade,
	errors, warnings, infos, analysis_max_severity, ghl_version) VALUES ` + placeholders(len(chunk), 11)
		if _, err := q.exec(ctx, famAnalysesInsertWorkflowResults, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// updateLastAnalysis copies the results of analysis analysisID into the last_* columns of the
// workflows it covered, in one statement. A workflow whose last analysis is newer keeps it: two
// analyses committing out of order leave the newer one last. The location condition keeps the
// update inside the analysis's location whatever ids the results name.
func (q *queries) updateLastAnalysis(ctx context.Context, analysisID string) error {
	const query = `UPDATE workflows AS w SET
	last_analysis_id = aw.analysis_id, last_score = aw.score, last_grade = aw.grade, last_errors = aw.errors,
	last_warnings = aw.warnings, last_infos = aw.infos, last_analyzed_at = aw.created_at
FROM analysis_workflows AS aw
WHERE aw.analysis_id = ? AND w.id = aw.workflow_id AND w.location_id = aw.location_id
	AND (w.last_analysis_id IS NULL OR (w.last_analyzed_at, w.last_analysis_id) < (aw.created_at, aw.analysis_id))`
	_, err := q.exec(ctx, famWorkflowsSetLastAnalysis, query, analysisID)
	return err
}

// PointLastAnalysis makes the account's analysis analysisID the last analysis of the workflows it
// covered, even where a newer one is recorded. The API calls it when it answers with a stored
// analysis because the workflows are again what that analysis saw (an edit reverted), so the
// workflow list shows the grade of what the workflows are now, not of the edit. ErrNotFound when the
// analysis is not the account's.
//
// Usually the analysis is already their last (the same input asked for again), and then it writes
// nothing: a reused analysis costs two reads, not a write that takes the workflows' row locks (on
// SQLite, the database's write lock) on every request.
func (q *queries) PointLastAnalysis(ctx context.Context, accountID, analysisID string) error {
	// One read answers both questions: whether the analysis is the account's, and whether a
	// workflow it covered has another last analysis.
	const check = `SELECT
	EXISTS (SELECT 1 FROM analyses WHERE id = ? AND account_id = ?) AS found,
	EXISTS (SELECT 1 FROM analysis_workflows aw JOIN workflows w ON w.id = aw.workflow_id AND w.location_id = aw.location_id
		WHERE aw.analysis_id = ? AND (w.last_analysis_id IS NULL OR w.last_analysis_id <> aw.analysis_id)) AS stale`
	var state struct {
		Found bool `db:"found"`
		Stale bool `db:"stale"`
	}
	if err := q.get(ctx, famAnalysesPointCheck, &state, check, analysisID, accountID, analysisID); err != nil {
		return fmt.Errorf("point last analysis %s: %w", analysisID, err)
	}
	if !state.Found {
		return fmt.Errorf("point last analysis %s: %w", analysisID, ErrNotFound)
	}
	if !state.Stale {
		return nil
	}
	// The pointer condition repeats the check, so that of several requests racing to point the
	// same workflows, each row is written once.
	const query = `UPDATE workflows AS w SET
	last_analysis_id = aw.analysis_id, last_score = aw.score, last_grade = aw.grade, last_errors = aw.errors,
	last_warnings = aw.warnings, last_infos = aw.infos, last_analyzed_at = aw.created_at
FROM analysis_workflows AS aw
WHERE aw.analysis_id = ? AND w.id = aw.workflow_id AND w.location_id = aw.location_id
	AND (w.last_analysis_id IS NULL OR w.last_analysis_id <> aw.analysis_id)
	AND EXISTS (SELECT 1 FROM analyses a WHERE a.id = aw.analysis_id AND a.account_id = ?)`
	if _, err := q.exec(ctx, famWorkflowsSetLastAnalysis, query, analysisID, accountID); err != nil {
		return fmt.Errorf("point last analysis %s: %w", analysisID, err)
	}
	return nil
}

// queryAnalysisByKey is served by analyses_key_uq: its expressions are spelled as in the index.
const queryAnalysisByKey = `SELECT ` + analysisColumns + `, a.report FROM analyses a
WHERE a.account_id = ? AND a.content_hash = ? AND a.analyzer_version = ? AND a.scope = ?
	AND COALESCE(a.location_id, '') = ? AND COALESCE(a.workflow_id, '') = ?`

// FindAnalysis returns an account's analysis with the given key, so that an input already analysed
// by the same analyzer version is not analysed again. locationID and workflowID are "" when the
// analysis has none. It returns ErrNotFound when there is no such analysis.
func (q *queries) FindAnalysis(ctx context.Context, accountID, locationID, scope, workflowID, contentHash, version string) (Analysis, error) {
	var r analysisRow
	if err := q.get(ctx, famAnalysesFind, &r, queryAnalysisByKey, accountID, contentHash, version, scope, locationID, workflowID); err != nil {
		return Analysis{}, fmt.Errorf("find analysis: %w", err)
	}
	return r.analysis(), nil
}

// GetAnalysis returns an account's analysis with its report. It returns ErrNotFound when the account
// has no such analysis, including when it belongs to another account.
func (q *queries) GetAnalysis(ctx context.Context, accountID, analysisID string) (Analysis, error) {
	const query = `SELECT ` + analysisColumns + `, a.report FROM analyses a WHERE a.id = ? AND a.account_id = ?`
	var r analysisRow
	if err := q.get(ctx, famAnalysesGet, &r, query, analysisID, accountID); err != nil {
		return Analysis{}, fmt.Errorf("get analysis: %w", err)
	}
	return r.analysis(), nil
}

// historyQuery returns the history query of an account's location for f, after c (nil for the first
// page), and its arguments. It works in two steps. The subquery chooses the page from one index alone, read in
// history order (created_at DESC, id DESC) from the keyset position and stopped after limit entries,
// every filter being answerable from that index; the outer query then reads the page's analyses by
// primary key. A page therefore costs about its size whatever the location's history holds, and the
// planner has no plan to prefer that reads every match and sorts them, as it would if the analyses'
// columns were needed before the limit (it does so when it expects few matches, and its estimates
// for a workflow or a time range of one location can be off by orders of magnitude):
//   - a rule filter leads with findings_location_rule_idx (one entry per analysis and rule);
//   - otherwise a workflow filter leads with analysis_workflows_history_idx (the analyses that
//     covered it);
//   - otherwise a severity filter leads with the partial index of that severity, which holds only
//     the analyses at or above it;
//   - otherwise analyses_location_created_idx leads.
//
// With both a rule and a workflow, the rule leads and each of its entries probes the per-workflow
// results' primary key: every location analysis covers every workflow, so the workflow is usually the
// broad filter of the two and a rule the narrow one, and the leading index should be the one with
// fewer entries to skip. The severity is written into the query as a literal (it is one of 1, 2, 3)
// rather than bound, because a planner proves that a partial index applies only from a predicate it
// can read: max_severity >= 3 implies the error index's predicate, max_severity >= ? does not.
//
// The outer query keeps only the account's analyses. An analysis refers to its location and account
// together (analyses_location_fkey), so a page that is not empty proves that the location is the
// account's, and only an empty page needs a look at the location to tell "none" from "not yours".
func historyQuery(accountID, locationID string, f HistoryFilter, c *cursor, limit int) (string, []any) {
	// d is the leading table; id and severity are its names for the analysis id and max severity.
	var lead, id, severity string
	var where []string
	var args []any
	switch {
	case f.RuleID != "":
		lead, id, severity = "findings", "analysis_id", "analysis_max_severity"
		where = append(where, "d.location_id = ?", "d.rule_id = ?", "d.first_of_rule")
		args = append(args, locationID, f.RuleID)
	case f.WorkflowID != "":
		lead, id, severity = "analysis_workflows", "analysis_id", "analysis_max_severity"
		where = append(where, "d.location_id = ?", "d.workflow_id = ?")
		args = append(args, locationID, f.WorkflowID)
	default:
		lead, id, severity = "analyses", "id", "max_severity"
		where = append(where, "d.location_id = ?")
		args = append(args, locationID)
	}
	if f.MinSeverity > 0 {
		where = append(where, "d."+severity+" >= "+strconv.Itoa(f.MinSeverity))
	}
	if f.RuleID != "" && f.WorkflowID != "" {
		where = append(where, "EXISTS (SELECT 1 FROM analysis_workflows w WHERE w.analysis_id = d.analysis_id AND w.workflow_id = ?)")
		args = append(args, f.WorkflowID)
	}
	if f.Since != nil {
		where = append(where, "d.created_at >= ?")
		args = append(args, f.Since.UTC())
	}
	if f.Until != nil {
		where = append(where, "d.created_at < ?")
		args = append(args, f.Until.UTC())
	}
	if c != nil {
		where = append(where, "(d.created_at, d."+id+") < (?, ?)")
		args = append(args, c.createdAt, c.id)
	}
	args = append(args, limit, accountID)
	query := `SELECT ` + analysisColumns + `
FROM (
	SELECT d.created_at, d.` + id + ` AS analysis_id FROM ` + lead + ` d
	WHERE ` + strings.Join(where, " AND ") + `
	ORDER BY d.created_at DESC, d.` + id + ` DESC
	LIMIT ?
) p
JOIN analyses a ON a.id = p.analysis_id
WHERE a.account_id = ?
ORDER BY p.created_at DESC, p.analysis_id DESC`
	return query, args
}

// ListAnalyses returns one page of a location's history, newest first, as summaries, and the cursor
// of the next page ("" after the last page). f narrows it (see HistoryFilter); Since is inclusive and
// Until exclusive. Pages are stable while analyses are added. It returns ErrNotFound when the account
// has no such location, ErrInvalidCursor for a cursor that ListAnalyses did not return, and
// ErrInvalid for a limit out of range or a MinSeverity outside 0..3.
func (q *queries) ListAnalyses(ctx context.Context, accountID, locationID string, f HistoryFilter, p Page) ([]AnalysisSummary, string, error) {
	query, args, limit, err := listAnalysesQuery(accountID, locationID, f, p)
	if err != nil {
		return nil, "", fmt.Errorf("list analyses: %w", err)
	}
	var rows []analysisRow
	if err := q.list(ctx, famAnalysesHistory, &rows, query, args...); err != nil {
		return nil, "", fmt.Errorf("list analyses: %w", err)
	}
	if len(rows) == 0 {
		if err := q.checkLocation(ctx, accountID, locationID); err != nil {
			return nil, "", fmt.Errorf("list analyses: %w", err)
		}
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{createdAt: last.CreatedAt, id: last.ID}.encode()
	}
	out := make([]AnalysisSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.analysis().AnalysisSummary)
	}
	return out, next, nil
}

// listAnalysesQuery checks f and p and returns the query of that page, its arguments and the page
// size. It asks for one row more than the page, which tells whether another page follows.
func listAnalysesQuery(accountID, locationID string, f HistoryFilter, p Page) (string, []any, int, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return "", nil, 0, err
	}
	if f.MinSeverity < 0 || f.MinSeverity > 3 {
		return "", nil, 0, fmt.Errorf("%w: minimum severity %d is not in 0..3", ErrInvalid, f.MinSeverity)
	}
	var after *cursor
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, analysisPrefix)
		if err != nil {
			return "", nil, 0, err
		}
		after = &c
	}
	query, args := historyQuery(accountID, locationID, f, after, limit+1)
	return query, args, limit, nil
}
