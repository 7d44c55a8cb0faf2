package store

import (
	"context"
	"fmt"
	"slices"
)

// The reads that decorate the API's existing views with the GHL connection: the connection state of
// a page of locations, and which analyses GHL has moved past.

// GHLConnectionsOf returns the connections of the account's locations among locationIDs, by
// location id, in one statement per 200 ids: a location without a connection (or another account's)
// is absent. The API shows every location of a page with its connection state this way, without a
// query per location.
func (q *queries) GHLConnectionsOf(ctx context.Context, accountID string, locationIDs []string) (map[string]GHLConnection, error) {
	out := make(map[string]GHLConnection, len(locationIDs))
	for chunk := range slices.Chunk(locationIDs, ghlBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, accountID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT ` + ghlConnectionColumns + ` FROM ghl_connections c JOIN locations l ON l.id = c.location_id
WHERE l.account_id = ? AND c.location_id IN ` + placeholders(1, len(chunk))
		var rows []ghlConnectionRow
		if err := q.list(ctx, famGHLConnectionsOf, &rows, query, args...); err != nil {
			return nil, fmt.Errorf("GHL connections of locations: %w", err)
		}
		for _, r := range rows {
			out[r.LocationID] = r.connection()
		}
	}
	return out, nil
}

// StaleAnalyses returns which of the account's analyses among analysisIDs GHL has moved past: a
// workflow the analysis covered (by its per-workflow results) is listed by GHL, not deleted, with a
// version newer than the one the analysis read. An analysis that read no known version (a document
// analysis, one stored before versions were recorded) is never stale, nor is one of a location never
// synced. Only the stale ids are in the map. One statement per 200 ids, each answered from the
// primary keys of analysis_workflows, workflows and ghl_workflows.
func (q *queries) StaleAnalyses(ctx context.Context, accountID string, analysisIDs []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for chunk := range slices.Chunk(analysisIDs, ghlBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, accountID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT DISTINCT aw.analysis_id FROM analysis_workflows aw
JOIN analyses a ON a.id = aw.analysis_id
JOIN workflows w ON w.id = aw.workflow_id AND w.location_id = aw.location_id
JOIN ghl_workflows g ON g.location_id = w.location_id AND g.ghl_workflow_id = w.ghl_workflow_id
WHERE a.account_id = ? AND aw.analysis_id IN ` + placeholders(1, len(chunk)) + `
	AND aw.ghl_version IS NOT NULL AND g.deleted_at IS NULL AND g.version > aw.ghl_version`
		var ids []string
		if err := q.list(ctx, famAnalysesStale, &ids, query, args...); err != nil {
			return nil, fmt.Errorf("stale analyses: %w", err)
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}
