package store

// The query texts of the workflow list and the analysis lookup, so that the conformance suite can
// check their plans.
const (
	QueryAnalysisByKey = queryAnalysisByKey
)

// HistoryQuery returns the query and arguments that ListAnalyses runs for f and p.
func HistoryQuery(accountID, locationID string, f HistoryFilter, p Page) (string, []any, error) {
	query, args, _, err := listAnalysesQuery(accountID, locationID, f, p)
	return query, args, err
}

// WorkflowListQuery returns the query and arguments that ListWorkflows runs for status and p.
func WorkflowListQuery(locationID, status string, p Page) (string, []any, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return "", nil, err
	}
	var after *cursor
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, workflowPrefix)
		if err != nil {
			return "", nil, err
		}
		after = &c
	}
	query, args := workflowListQuery(locationID, status, after, limit+1)
	return query, args, nil
}
