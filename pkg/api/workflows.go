package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// WorkflowStore is the storage of a location's workflows and context. *store.DB implements it; its
// methods return ErrNotFound for another account's location or workflow, exactly as for a missing
// one, and ErrInvalidCursor for a cursor the store did not issue.
type WorkflowStore interface {
	ImportWorkflows(ctx context.Context, accountID, locationID string, wfs []store.ImportedWorkflow, locContext json.RawMessage) (store.ImportOutcome, error)
	ListWorkflows(ctx context.Context, accountID, locationID, status string, p store.Page) ([]store.Workflow, string, error)
	GetWorkflow(ctx context.Context, accountID, locationID, workflowID string) (store.Workflow, error)
	DeleteWorkflow(ctx context.Context, accountID, locationID, workflowID string) error
	LocationWorkflows(ctx context.Context, accountID, locationID string) ([]store.Workflow, error)
	GetContext(ctx context.Context, accountID, locationID string) (json.RawMessage, error)
	PutContext(ctx context.Context, accountID, locationID string, c json.RawMessage) error
}

// Bounds of the stored workflow columns (see store.ImportWorkflows). A normalized document can carry
// any strings, so an import checks them first and names the workflow that breaks one, rather than
// failing in the store.
const (
	maxGHLWorkflowIDLength = 255
	maxWorkflowNameLength  = 500
	maxWorkflowStatusLen   = 64
)

// ImportWorkflows stores the workflows of a document in one of the caller's locations, in one
// transaction; the document's context, when it has one, replaces the location's.
func (s *Server) ImportWorkflows(ctx context.Context, req gen.ImportWorkflowsRequestObject) (gen.ImportWorkflowsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	// The location is checked before the document is read, so that another account's location is
	// a 404 whatever the body holds.
	if _, err := s.store.GetLocation(ctx, p.Account.ID, req.LocationId); err != nil {
		return nil, fmt.Errorf("import workflows into %s: %w", req.LocationId, err)
	}
	data, err := rawBody(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.parseDocument(data, "$")
	if err != nil {
		return nil, err
	}
	wfs, err := toImportedWorkflows(res)
	if err != nil {
		return nil, err
	}
	var locContext json.RawMessage
	if res.Location.Context != nil {
		if locContext, err = json.Marshal(res.Location.Context); err != nil {
			return nil, fmt.Errorf("encode imported context: %w", err)
		}
	}
	out, err := s.store.ImportWorkflows(ctx, p.Account.ID, req.LocationId, wfs, locContext)
	if err != nil {
		return nil, fmt.Errorf("import workflows into %s: %w", req.LocationId, err)
	}
	body := gen.ImportResult{
		Dialect:        gen.ImportResultDialect(res.Dialect),
		ContextUpdated: locContext != nil,
		Workflows:      make([]gen.ImportedWorkflow, 0, len(out.Workflows)),
	}
	for i, w := range out.Workflows {
		body.Workflows = append(body.Workflows, gen.ImportedWorkflow{
			Id: w.ID, GhlWorkflowId: w.GHLWorkflowID, Name: w.Name, Status: w.Status,
			Steps: int32(w.Steps), Created: out.Created[i],
		})
	}
	return gen.ImportWorkflows201JSONResponse{Body: body}, nil
}

// toImportedWorkflows converts an import's workflows for the store: the normalized model as JSON,
// the document as imported, and the columns the list shows. It refuses, naming the workflow, the
// values that the store cannot keep.
func toImportedWorkflows(res *importer.Result) ([]store.ImportedWorkflow, error) {
	wfs := make([]store.ImportedWorkflow, 0, len(res.Location.Workflows))
	for i := range res.Location.Workflows {
		wf := &res.Location.Workflows[i]
		if reason := storableWorkflow(wf); reason != "" {
			return nil, invalidDocument("$", fmt.Sprintf("workflow %q %s", truncate(wf.ID, 64), reason))
		}
		normalized, err := json.Marshal(wf)
		if err != nil {
			return nil, fmt.Errorf("encode workflow %s: %w", wf.ID, err)
		}
		var raw json.RawMessage
		if i < len(res.Raw) {
			raw = res.Raw[i]
		}
		wfs = append(wfs, store.ImportedWorkflow{
			GHLWorkflowID: wf.ID,
			Name:          wf.Name,
			Status:        wf.Status,
			Dialect:       res.Dialect,
			GHLVersion:    wf.Version,
			Steps:         len(wf.Steps),
			Normalized:    normalized,
			Raw:           raw,
		})
	}
	return wfs, nil
}

// storableWorkflow says what keeps wf out of the store, or "" when nothing does.
func storableWorkflow(wf *analyzer.Workflow) string {
	switch n := utf8.RuneCountInString(wf.ID); {
	case n == 0:
		return "has an empty id"
	case n > maxGHLWorkflowIDLength:
		return fmt.Sprintf("has an id longer than %d characters", maxGHLWorkflowIDLength)
	}
	if utf8.RuneCountInString(wf.Name) > maxWorkflowNameLength {
		return fmt.Sprintf("has a name longer than %d characters", maxWorkflowNameLength)
	}
	switch n := utf8.RuneCountInString(wf.Status); {
	case n == 0:
		return "has no status"
	case n > maxWorkflowStatusLen:
		return fmt.Sprintf("has a status longer than %d characters", maxWorkflowStatusLen)
	}
	if wf.Version < 0 {
		return "has a negative version"
	}
	return ""
}

// invalidDocument is a 422 invalid-document problem about the value at path.
func invalidDocument(path, reason string) *Problem {
	p := newProblem(kindInvalidDocument, fmt.Sprintf("The document cannot be read: %s: %s.", path, reason), nil)
	p.InvalidFields = []gen.InvalidField{{Field: path, Location: gen.InvalidFieldLocationBody, Reason: reason}}
	return p
}

// truncate shortens s to at most n characters, so that a caller's oversized value is not echoed
// back whole.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "..."
}

// ListWorkflows returns one page of a location's workflows, with their last results.
func (s *Server) ListWorkflows(ctx context.Context, req gen.ListWorkflowsRequestObject) (gen.ListWorkflowsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	status := ""
	if req.Params.Status != nil {
		status = *req.Params.Status
	}
	page := toPage(req.Params.Limit, req.Params.Cursor)
	// The validator is read before the page, so it never names newer data than the page holds.
	etag, err := s.listETag(ctx, cache.KindWorkflowList, p.Account.ID, req.LocationId, workflowFilterKey(status), page)
	if err != nil {
		return nil, err
	}
	wfs, next, err := s.store.ListWorkflows(ctx, p.Account.ID, req.LocationId, status, page)
	if err != nil {
		return nil, fmt.Errorf("list workflows of %s: %w", req.LocationId, err)
	}
	// Answered only once the read has shown the location is the caller's: another account's
	// location is a 404 whatever If-None-Match says.
	if etagMatches(req.Params.IfNoneMatch, etag) {
		return gen.ListWorkflows304Response{Headers: gen.ListWorkflows304ResponseHeaders{CacheControl: analysisCacheControl, ETag: etag}}, nil
	}
	// What the syncs recorded is read for the page after the validator check, fresh (a sync moves
	// the validator too).
	byGHL, err := s.ghlOfWorkflows(ctx, p.Account.ID, req.LocationId, wfs)
	if err != nil {
		return nil, err
	}
	out := gen.WorkflowList{Items: mapSlice(wfs, func(w store.Workflow) gen.Workflow {
		g, listed := byGHL[w.GHLWorkflowID]
		return withGHL(toWorkflow(w), g, listed)
	})}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListWorkflows200JSONResponse{Body: out, Headers: gen.ListWorkflows200ResponseHeaders{CacheControl: analysisCacheControl, ETag: etag}}, nil
}

// GetWorkflow returns a workflow with its normalized model and its document as imported.
func (s *Server) GetWorkflow(ctx context.Context, req gen.GetWorkflowRequestObject) (gen.GetWorkflowResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.store.GetWorkflow(ctx, p.Account.ID, req.LocationId, req.WorkflowId)
	if err != nil {
		return nil, fmt.Errorf("get workflow %s: %w", req.WorkflowId, err)
	}
	byGHL, err := s.ghlOfWorkflows(ctx, p.Account.ID, req.LocationId, []store.Workflow{w})
	if err != nil {
		return nil, err
	}
	g, listed := byGHL[w.GHLWorkflowID]
	sum := withGHL(toWorkflow(w), g, listed)
	out := gen.WorkflowDetail{
		Id: sum.Id, GhlWorkflowId: sum.GhlWorkflowId, Name: sum.Name, Status: sum.Status, Dialect: sum.Dialect,
		GhlVersion: sum.GhlVersion, Steps: sum.Steps, LastAnalysis: sum.LastAnalysis,
		CreatedAt: sum.CreatedAt, UpdatedAt: sum.UpdatedAt, Normalized: w.Normalized,
		ImportedVersion: sum.ImportedVersion, Stale: sum.Stale, GhlDeletedAt: sum.GhlDeletedAt,
	}
	if w.Raw != nil {
		out.Raw = &w.Raw
	}
	return gen.GetWorkflow200JSONResponse{Body: out}, nil
}

// DeleteWorkflow deletes a workflow; its analyses stay in the history.
func (s *Server) DeleteWorkflow(ctx context.Context, req gen.DeleteWorkflowRequestObject) (gen.DeleteWorkflowResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteWorkflow(ctx, p.Account.ID, req.LocationId, req.WorkflowId); err != nil {
		return nil, fmt.Errorf("delete workflow %s: %w", req.WorkflowId, err)
	}
	return gen.DeleteWorkflow204Response{}, nil
}

// GetLocationContext returns a location's stored context, or says that it is unknown.
func (s *Server) GetLocationContext(ctx context.Context, req gen.GetLocationContextRequestObject) (gen.GetLocationContextResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetContext(ctx, p.Account.ID, req.LocationId)
	if err != nil {
		return nil, fmt.Errorf("get context of %s: %w", req.LocationId, err)
	}
	return gen.GetLocationContext200JSONResponse{Body: storedContext(c)}, nil
}

// PutLocationContext replaces a location's context. The body is stored as the analyzer's model
// encodes it, so that a context that arrives by PUT and one that arrives with an import are stored
// alike.
func (s *Server) PutLocationContext(ctx context.Context, req gen.PutLocationContextRequestObject) (gen.PutLocationContextResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("put context: no request body after validation")
	}
	if n, max := contextObjects(req.Body), cmp.Or(s.documentLimits.MaxContextObjects, importer.DefaultMaxContextObjects); n > max {
		return nil, newProblem(kindLimitExceeded, fmt.Sprintf("The context describes %d objects; at most %d per location are accepted.", n, max), nil)
	}
	c, err := toAnalyzerContext(req.Body)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutContext(ctx, p.Account.ID, req.LocationId, c); err != nil {
		return nil, fmt.Errorf("put context of %s: %w", req.LocationId, err)
	}
	return gen.PutLocationContext200JSONResponse{Body: storedContext(c)}, nil
}

// DeleteLocationContext forgets a location's context.
func (s *Server) DeleteLocationContext(ctx context.Context, req gen.DeleteLocationContextRequestObject) (gen.DeleteLocationContextResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutContext(ctx, p.Account.ID, req.LocationId, nil); err != nil {
		return nil, fmt.Errorf("delete context of %s: %w", req.LocationId, err)
	}
	return gen.DeleteLocationContext204Response{}, nil
}

// contextObjects counts the objects a context body describes, as the importer counts those of a
// document: every entry of every list, a pipeline's stages included.
func contextObjects(body *gen.LocationContext) int {
	n := 0
	count := func(l int) { n += l }
	if body.Tags != nil {
		count(len(*body.Tags))
	}
	if body.CustomFields != nil {
		count(len(*body.CustomFields))
	}
	if body.CustomValues != nil {
		count(len(*body.CustomValues))
	}
	for _, list := range []*[]gen.ContextObject{body.Calendars, body.Users, body.Forms, body.Surveys, body.Templates} {
		if list != nil {
			count(len(*list))
		}
	}
	if body.PhoneNumbers != nil {
		count(len(*body.PhoneNumbers))
	}
	if body.Pipelines != nil {
		for _, p := range *body.Pipelines {
			count(1)
			if p.Stages != nil {
				count(len(*p.Stages))
			}
		}
	}
	return n
}

// toAnalyzerContext converts a validated context body into the analyzer's model, as JSON. The two
// share their JSON names; going through the model drops nothing the analyzer reads and writes
// unknown lists as null, as an import does.
func toAnalyzerContext(body *gen.LocationContext) (json.RawMessage, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode context body: %w", err)
	}
	var c analyzer.Context
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode context body into the model: %w", err)
	}
	out, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode context: %w", err)
	}
	return out, nil
}

// storedContext wraps a stored context for the API; nil is an unknown context.
func storedContext(c json.RawMessage) gen.StoredContext {
	if c == nil {
		return gen.StoredContext{Known: false}
	}
	return gen.StoredContext{Known: true, Context: &c}
}

// toPage converts the pagination parameters.
func toPage(limit *gen.Limit, cursor *gen.Cursor) store.Page {
	page := store.Page{Limit: store.DefaultPageLimit}
	if limit != nil {
		page.Limit = int(*limit)
	}
	if cursor != nil {
		page.Cursor = *cursor
	}
	return page
}

// toWorkflow converts a stored workflow, without its documents.
func toWorkflow(w store.Workflow) gen.Workflow {
	out := gen.Workflow{
		Id: w.ID, GhlWorkflowId: w.GHLWorkflowID, Name: w.Name, Status: w.Status, Dialect: w.Dialect,
		GhlVersion: int32(w.GHLVersion), ImportedVersion: int32(w.GHLVersion), Steps: int32(w.Steps),
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
	if a := w.LastAnalysis; a != nil {
		out.LastAnalysis = &gen.WorkflowLastAnalysis{
			AnalysisId: a.ID, Scope: gen.AnalysisScope(a.Scope), Score: int32(a.Score), Grade: gen.Grade(a.Grade),
			Counts: counts(a.Errors, a.Warnings, a.Infos), AnalyzedAt: a.CreatedAt,
		}
	}
	return out
}

// counts converts finding counts by severity.
func counts(errs, warnings, infos int) gen.FindingCounts {
	return gen.FindingCounts{Error: int32(errs), Warning: int32(warnings), Info: int32(infos)}
}
