package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// workflowPrefix starts every workflow id.
const workflowPrefix = "wfl_"

// importBatch is how many workflows one upsert statement writes. 100 rows of 12 values stay far below
// both engines' limits on parameters, and an import of the largest allowed size (1,000 workflows)
// takes ten statements instead of a thousand round trips.
const importBatch = 100

// workflowRow is a workflows row, joined with the analysis its last_* columns describe, as the
// drivers scan it. The last_* fields are NULL before the first analysis; normalized and raw are only
// selected by the methods that return them.
type workflowRow struct {
	ID                  string     `db:"id"`
	LocationID          string     `db:"location_id"`
	GHLWorkflowID       string     `db:"ghl_workflow_id"`
	Name                string     `db:"name"`
	Status              string     `db:"status"`
	Dialect             string     `db:"dialect"`
	GHLVersion          int        `db:"ghl_version"`
	Steps               int        `db:"steps"`
	CreatedAt           time.Time  `db:"created_at"`
	UpdatedAt           time.Time  `db:"updated_at"`
	LastAnalysisID      *string    `db:"last_analysis_id"`
	LastScore           *int       `db:"last_score"`
	LastGrade           *string    `db:"last_grade"`
	LastErrors          *int       `db:"last_errors"`
	LastWarnings        *int       `db:"last_warnings"`
	LastInfos           *int       `db:"last_infos"`
	LastAnalyzedAt      *time.Time `db:"last_analyzed_at"`
	LastScope           *string    `db:"last_scope"`
	LastWorkflowID      *string    `db:"last_workflow_id"`
	LastContentHash     *string    `db:"last_content_hash"`
	LastAnalyzerVersion *string    `db:"last_analyzer_version"`
	Normalized          []byte     `db:"normalized"`
	Raw                 []byte     `db:"raw"`
}

// workflowColumns and workflowFrom read a workflow with its last analysis. The join is a primary key
// lookup per workflow; the workflow's own score, grade and counts come from its last_* columns, and
// the analysis adds what is shared by every workflow it covered.
const (
	workflowColumns = `w.id, w.location_id, w.ghl_workflow_id, w.name, w.status, w.dialect, w.ghl_version,
	w.steps, w.created_at, w.updated_at, w.last_analysis_id, w.last_score, w.last_grade, w.last_errors,
	w.last_warnings, w.last_infos, w.last_analyzed_at, a.scope AS last_scope, a.workflow_id AS last_workflow_id,
	a.content_hash AS last_content_hash, a.analyzer_version AS last_analyzer_version`
	workflowFrom = `workflows w LEFT JOIN analyses a ON a.id = w.last_analysis_id`
)

// workflow converts the row, normalizing times to UTC.
func (r workflowRow) workflow() Workflow {
	w := Workflow{
		ID:            r.ID,
		LocationID:    r.LocationID,
		GHLWorkflowID: r.GHLWorkflowID,
		Name:          r.Name,
		Status:        r.Status,
		Dialect:       r.Dialect,
		GHLVersion:    r.GHLVersion,
		Steps:         r.Steps,
		Normalized:    json.RawMessage(r.Normalized),
		Raw:           json.RawMessage(r.Raw),
		CreatedAt:     r.CreatedAt.UTC(),
		UpdatedAt:     r.UpdatedAt.UTC(),
	}
	// The other last_* columns outlive a deleted analysis (the foreign key clears only the id), so
	// the joined analysis decides whether there is a last analysis to show.
	if r.LastAnalysisID != nil && r.LastScope != nil && r.LastAnalyzedAt != nil &&
		r.LastScore != nil && r.LastGrade != nil && r.LastErrors != nil && r.LastWarnings != nil && r.LastInfos != nil {
		w.LastAnalysis = &AnalysisSummary{
			ID:              *r.LastAnalysisID,
			LocationID:      r.LocationID,
			Scope:           *r.LastScope,
			WorkflowID:      deref(r.LastWorkflowID),
			ContentHash:     deref(r.LastContentHash),
			AnalyzerVersion: deref(r.LastAnalyzerVersion),
			Grade:           *r.LastGrade,
			Score:           *r.LastScore,
			Errors:          *r.LastErrors,
			Warnings:        *r.LastWarnings,
			Infos:           *r.LastInfos,
			MaxSeverity:     maxSeverity(*r.LastErrors, *r.LastWarnings, *r.LastInfos),
			CreatedAt:       r.LastAnalyzedAt.UTC(),
		}
	}
	return w
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// maxSeverity returns the rank of the most serious of the counted findings: 3 error, 2 warning,
// 1 info, 0 none.
func maxSeverity(errors, warnings, infos int) int {
	switch {
	case errors > 0:
		return 3
	case warnings > 0:
		return 2
	case infos > 0:
		return 1
	default:
		return 0
	}
}

// checkLocation returns ErrNotFound unless the account has the location. Methods on a location's
// workflows, context and history call it first, so that another account's location is not found
// rather than empty.
func (q *queries) checkLocation(ctx context.Context, accountID, locationID string) error {
	var id string
	return q.get(ctx, famLocationsCheck, &id, `SELECT id FROM locations WHERE id = ? AND account_id = ?`, locationID, accountID)
}

// ImportWorkflows stores the workflows of one import in an account's location, in one transaction:
// every workflow is written or none is. A workflow whose GHL id the location already has replaces
// it, keeping its id, CreatedAt, history and last analysis; the others are created. When locContext
// is not nil it replaces the location's context (JSON null clears it, like PutContext); nil leaves it
// as it is. The outcome lists the workflows in the order of wfs.
//
// It returns ErrNotFound when the account has no such location and ErrInvalid when wfs names a GHL
// id twice, a document is not JSON, locContext is neither a JSON object nor null, or a value is out
// of range (GHL id 1..255 characters, name at most 500, status 1..64, dialect at most 32, version
// and steps not negative). On a Tx, an error leaves the transaction for the caller to roll back.
func (q *queries) ImportWorkflows(ctx context.Context, accountID, locationID string, wfs []ImportedWorkflow, locContext json.RawMessage) (ImportOutcome, error) {
	if err := validateImport(wfs, locContext); err != nil {
		return ImportOutcome{}, fmt.Errorf("import workflows: %w", err)
	}
	var out ImportOutcome
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.checkLocation(ctx, accountID, locationID); err != nil {
			return err
		}
		written, err := q.upsertWorkflows(ctx, locationID, wfs)
		if err != nil {
			return err
		}
		if locContext != nil {
			if err := q.putContext(ctx, locationID, locContext); err != nil {
				return err
			}
		}
		out, err = q.importOutcome(ctx, locationID, wfs, written)
		return err
	})
	if err != nil {
		return ImportOutcome{}, fmt.Errorf("import workflows: %w", err)
	}
	return out, nil
}

// validateImport checks what the schema cannot: that no GHL id repeats (an upsert would silently let
// the last one win) and that the documents are JSON.
func validateImport(wfs []ImportedWorkflow, locContext json.RawMessage) error {
	seen := make(map[string]bool, len(wfs))
	for _, wf := range wfs {
		if seen[wf.GHLWorkflowID] {
			return fmt.Errorf("%w: workflow %q appears more than once", ErrInvalid, wf.GHLWorkflowID)
		}
		seen[wf.GHLWorkflowID] = true
		if !json.Valid(wf.Normalized) {
			return fmt.Errorf("%w: workflow %q: normalized document is not JSON", ErrInvalid, wf.GHLWorkflowID)
		}
		if wf.Raw != nil && !json.Valid(wf.Raw) {
			return fmt.Errorf("%w: workflow %q: raw document is not JSON", ErrInvalid, wf.GHLWorkflowID)
		}
	}
	if locContext != nil {
		return validateContext(locContext)
	}
	return nil
}

// writtenWorkflow is what an upsert reports about one workflow.
type writtenWorkflow struct {
	id      string
	created bool
}

// upsertWorkflows writes wfs and reports, by GHL id, each workflow's id and whether it was created.
// The rows are written in GHL id order, so that two imports into one location lock the rows they
// share in the same order and cannot deadlock on PostgreSQL.
func (q *queries) upsertWorkflows(ctx context.Context, locationID string, wfs []ImportedWorkflow) (map[string]writtenWorkflow, error) {
	sorted := slices.Clone(wfs)
	slices.SortFunc(sorted, func(a, b ImportedWorkflow) int { return strings.Compare(a.GHLWorkflowID, b.GHLWorkflowID) })
	written := make(map[string]writtenWorkflow, len(wfs))
	t := q.now()
	for chunk := range slices.Chunk(sorted, importBatch) {
		// Each row carries a new id. A created row keeps it; a replaced row keeps its own, which the
		// RETURNING clause reports: comparing the two tells created from replaced on both engines.
		fresh := make(map[string]string, len(chunk))
		args := make([]any, 0, len(chunk)*12)
		for _, wf := range chunk {
			id := newID(workflowPrefix)
			fresh[wf.GHLWorkflowID] = id
			args = append(args, id, locationID, wf.GHLWorkflowID, wf.Name, wf.Status, wf.Dialect,
				wf.GHLVersion, wf.Steps, t, t, jsonArg(wf.Normalized), jsonArg(wf.Raw))
		}
		query := `INSERT INTO workflows (id, location_id, ghl_workflow_id, name, status, dialect, ghl_version, steps,
	created_at, updated_at, normalized, raw)
VALUES ` + placeholders(len(chunk), 12) + `
ON CONFLICT (location_id, ghl_workflow_id) DO UPDATE SET
	name = excluded.name, status = excluded.status, dialect = excluded.dialect, ghl_version = excluded.ghl_version,
	steps = excluded.steps, updated_at = excluded.updated_at, normalized = excluded.normalized, raw = excluded.raw
RETURNING id, ghl_workflow_id`
		var rows []struct {
			ID            string `db:"id"`
			GHLWorkflowID string `db:"ghl_workflow_id"`
		}
		if err := q.list(ctx, famWorkflowsUpsert, &rows, query, args...); err != nil {
			return nil, err
		}
		for _, r := range rows {
			written[r.GHLWorkflowID] = writtenWorkflow{id: r.ID, created: r.ID == fresh[r.GHLWorkflowID]}
		}
	}
	return written, nil
}

// importOutcome reads back the imported workflows, with their last analyses, in the order of wfs.
// The documents are the ones just written, so they are not read again.
func (q *queries) importOutcome(ctx context.Context, locationID string, wfs []ImportedWorkflow, written map[string]writtenWorkflow) (ImportOutcome, error) {
	byID := make(map[string]workflowRow, len(wfs))
	for chunk := range slices.Chunk(wfs, importBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, locationID)
		for _, wf := range chunk {
			args = append(args, written[wf.GHLWorkflowID].id)
		}
		query := `SELECT ` + workflowColumns + ` FROM ` + workflowFrom + `
WHERE w.location_id = ? AND w.id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + `)`
		var rows []workflowRow
		if err := q.list(ctx, famWorkflowsImported, &rows, query, args...); err != nil {
			return ImportOutcome{}, err
		}
		for _, r := range rows {
			byID[r.ID] = r
		}
	}
	out := ImportOutcome{Workflows: make([]Workflow, 0, len(wfs)), Created: make([]bool, 0, len(wfs))}
	for _, wf := range wfs {
		ww := written[wf.GHLWorkflowID]
		r, ok := byID[ww.id]
		if !ok {
			return ImportOutcome{}, fmt.Errorf("workflow %q was written but cannot be read back", wf.GHLWorkflowID)
		}
		w := r.workflow()
		w.Normalized, w.Raw = wf.Normalized, wf.Raw
		out.Workflows = append(out.Workflows, w)
		out.Created = append(out.Created, ww.created)
	}
	return out, nil
}

// The workflow list, newest first, with and without a status filter. Like the history (see
// historyQuery), the subquery chooses the page from one index alone (workflows_location_created_idx
// or workflows_location_status_created_idx), read in order and stopped after the page; only the
// page's workflows and their last analyses are then read.
const (
	workflowPageHead = `SELECT ` + workflowColumns + `
FROM (
	SELECT d.created_at, d.id FROM workflows d
	WHERE d.location_id = ?`
	workflowPageTail = `
	ORDER BY d.created_at DESC, d.id DESC
	LIMIT ?
) p
JOIN workflows w ON w.id = p.id
LEFT JOIN analyses a ON a.id = w.last_analysis_id
ORDER BY p.created_at DESC, p.id DESC`

	queryWorkflowsFirstPage       = workflowPageHead + workflowPageTail
	queryWorkflowsNextPage        = workflowPageHead + ` AND (d.created_at, d.id) < (?, ?)` + workflowPageTail
	queryWorkflowsStatusFirstPage = workflowPageHead + ` AND d.status = ?` + workflowPageTail
	queryWorkflowsStatusNextPage  = workflowPageHead + ` AND d.status = ? AND (d.created_at, d.id) < (?, ?)` + workflowPageTail
)

// workflowListQuery returns the list query and its arguments for status ("" = all) after c (nil for
// the first page).
func workflowListQuery(locationID, status string, c *cursor, limit int) (string, []any) {
	switch {
	case status == "" && c == nil:
		return queryWorkflowsFirstPage, []any{locationID, limit}
	case status == "":
		return queryWorkflowsNextPage, []any{locationID, c.createdAt, c.id, limit}
	case c == nil:
		return queryWorkflowsStatusFirstPage, []any{locationID, status, limit}
	default:
		return queryWorkflowsStatusNextPage, []any{locationID, status, c.createdAt, c.id, limit}
	}
}

// ListWorkflows returns one page of a location's workflows, newest first, without their documents,
// and the cursor of the next page ("" after the last page). status "" lists every workflow, any other
// value only the workflows with that status. Pages are stable while workflows are imported. It
// returns ErrNotFound when the account has no such location, ErrInvalidCursor for a cursor that
// ListWorkflows did not return and ErrInvalid for a limit out of range.
func (q *queries) ListWorkflows(ctx context.Context, accountID, locationID, status string, p Page) ([]Workflow, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", fmt.Errorf("list workflows: %w", err)
	}
	var after *cursor
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, workflowPrefix)
		if err != nil {
			return nil, "", fmt.Errorf("list workflows: %w", err)
		}
		after = &c
	}
	if err := q.checkLocation(ctx, accountID, locationID); err != nil {
		return nil, "", fmt.Errorf("list workflows: %w", err)
	}
	// One row more than the page tells whether another page follows without a count.
	query, args := workflowListQuery(locationID, status, after, limit+1)
	var rows []workflowRow
	if err := q.list(ctx, famWorkflowsList, &rows, query, args...); err != nil {
		return nil, "", fmt.Errorf("list workflows: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{createdAt: last.CreatedAt, id: last.ID}.encode()
	}
	wfs := make([]Workflow, 0, len(rows))
	for _, r := range rows {
		wfs = append(wfs, r.workflow())
	}
	return wfs, next, nil
}

// GetWorkflow returns a workflow of an account's location with its documents. It returns ErrNotFound
// when the location has no such workflow or the account has no such location.
func (q *queries) GetWorkflow(ctx context.Context, accountID, locationID, workflowID string) (Workflow, error) {
	const query = `SELECT ` + workflowColumns + `, w.normalized, w.raw FROM ` + workflowFrom + `
JOIN locations l ON l.id = w.location_id
WHERE w.id = ? AND w.location_id = ? AND l.account_id = ?`
	var r workflowRow
	if err := q.get(ctx, famWorkflowsGet, &r, query, workflowID, locationID, accountID); err != nil {
		return Workflow{}, fmt.Errorf("get workflow: %w", err)
	}
	return r.workflow(), nil
}

// DeleteWorkflow removes a workflow from an account's location. Its analyses stay in the location's
// history, and filtering the history by its id still finds them. It returns ErrNotFound when the
// location has no such workflow or the account has no such location.
func (q *queries) DeleteWorkflow(ctx context.Context, accountID, locationID, workflowID string) error {
	const query = `DELETE FROM workflows
WHERE id = ? AND location_id = ? AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
	res, err := q.exec(ctx, famWorkflowsDelete, query, workflowID, locationID, locationID, accountID)
	if err != nil {
		return fmt.Errorf("delete workflow: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete workflow: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete workflow: %w", ErrNotFound)
	}
	return nil
}

// LocationWorkflows returns every workflow of an account's location with its normalized document
// (not the raw one), ordered by GHL id byte by byte, the input of a location analysis. It returns
// ErrNotFound when the account has no such location.
func (q *queries) LocationWorkflows(ctx context.Context, accountID, locationID string) ([]Workflow, error) {
	if err := q.checkLocation(ctx, accountID, locationID); err != nil {
		return nil, fmt.Errorf("location workflows: %w", err)
	}
	// ghl_workflow_id is compared byte by byte on both engines (COLLATE "C" on PostgreSQL, SQLite's
	// BINARY), so the order, and with it the analysis's content hash, does not depend on a locale.
	const query = `SELECT ` + workflowColumns + `, w.normalized FROM ` + workflowFrom + `
WHERE w.location_id = ?
ORDER BY w.ghl_workflow_id`
	var rows []workflowRow
	if err := q.list(ctx, famWorkflowsOfLocation, &rows, query, locationID); err != nil {
		return nil, fmt.Errorf("location workflows: %w", err)
	}
	wfs := make([]Workflow, 0, len(rows))
	for _, r := range rows {
		wfs = append(wfs, r.workflow())
	}
	return wfs, nil
}

// GetContext returns an account's location context, or nil when the location has none. It returns
// ErrNotFound when the account has no such location.
func (q *queries) GetContext(ctx context.Context, accountID, locationID string) (json.RawMessage, error) {
	const query = `SELECT c.context FROM locations l
LEFT JOIN location_contexts c ON c.location_id = l.id
WHERE l.id = ? AND l.account_id = ?`
	var doc []byte
	if err := q.get(ctx, famContextsGet, &doc, query, locationID, accountID); err != nil {
		return nil, fmt.Errorf("get context: %w", err)
	}
	return json.RawMessage(doc), nil
}

// PutContext replaces an account's location context with c, a JSON object; nil or JSON null clears
// it, so that the context is unknown again. It returns ErrNotFound when the account has no such
// location and ErrInvalid when c is neither.
func (q *queries) PutContext(ctx context.Context, accountID, locationID string, c json.RawMessage) error {
	if c != nil {
		if err := validateContext(c); err != nil {
			return fmt.Errorf("put context: %w", err)
		}
	}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.checkLocation(ctx, accountID, locationID); err != nil {
			return err
		}
		return q.putContext(ctx, locationID, c)
	})
	if err != nil {
		return fmt.Errorf("put context: %w", err)
	}
	return nil
}

// validateContext accepts a JSON object or JSON null.
func validateContext(c json.RawMessage) error {
	if !json.Valid(c) {
		return fmt.Errorf("%w: context is not JSON", ErrInvalid)
	}
	if t := bytes.TrimSpace(c); t[0] != '{' && !bytes.Equal(t, []byte("null")) {
		return fmt.Errorf("%w: context is not a JSON object", ErrInvalid)
	}
	return nil
}

// putContext writes a validated context of a location already checked: a JSON object replaces the
// stored one, nil or JSON null deletes it.
func (q *queries) putContext(ctx context.Context, locationID string, c json.RawMessage) error {
	if c == nil || bytes.Equal(bytes.TrimSpace(c), []byte("null")) {
		_, err := q.exec(ctx, famContextsPut, `DELETE FROM location_contexts WHERE location_id = ?`, locationID)
		return err
	}
	const query = `INSERT INTO location_contexts (location_id, context, updated_at) VALUES (?, ?, ?)
ON CONFLICT (location_id) DO UPDATE SET context = excluded.context, updated_at = excluded.updated_at`
	_, err := q.exec(ctx, famContextsPut, query, locationID, jsonArg(c), q.now())
	return err
}
