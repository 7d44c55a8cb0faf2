package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// AnalysisStore is the storage of analyses and their history. *store.DB implements it; its methods
// return ErrNotFound for another account's analysis or location, exactly as for a missing one,
// ErrConflict when CreateAnalysis meets an analysis with the same key, and ErrInvalidCursor for a
// cursor the store did not issue.
type AnalysisStore interface {
	FindAnalysis(ctx context.Context, accountID, locationID, scope, workflowID, contentHash, version string) (store.Analysis, error)
	CreateAnalysis(ctx context.Context, accountID string, in store.NewAnalysis) (store.Analysis, error)
	GetAnalysis(ctx context.Context, accountID, analysisID string) (store.Analysis, error)
	ListAnalyses(ctx context.Context, accountID, locationID string, f store.HistoryFilter, p store.Page) ([]store.AnalysisSummary, string, error)
	PointLastAnalysis(ctx context.Context, accountID, analysisID string) error
	StaleAnalyses(ctx context.Context, accountID string, analysisIDs []string) (map[string]bool, error)
}

// analysisJob is one analysis to reuse or run: its key (location, scope, workflow, content hash and,
// implicitly, the analyzer version) and how to compute it.
type analysisJob struct {
	locationID string
	scope      string
	// workflowID is the analysed workflow's id (wfl_) for the workflow scope, "" otherwise.
	workflowID string
	// hash is the content hash of the result: the input's, or for the workflow scope the narrowed
	// report's, which is derived from the input's and the workflow.
	hash  string
	input *analyzer.Location
	// only is the GHL id of the workflow the report is narrowed to, for the workflow scope.
	only string
	// stored maps the GHL id of each stored workflow the result covers to its id (wfl_), for the
	// per-workflow results.
	stored map[string]string
	// versions maps the GHL id of each stored workflow to the version the analysis reads (its
	// imported version), recorded with the per-workflow results so that a sync can tell when GHL
	// moved past it.
	versions map[string]int
	// prepaid is set for a background job, whose analyses per hour were counted when it was
	// accepted: computing it takes none, so that its retries never count twice.
	prepaid bool
}

// AnalyzeLocation analyses a location's stored workflows with its stored context, keeping the
// result of the whole location or of one workflow, and records it in the location's history. An
// analysis with the same key is returned instead of a new one.
func (s *Server) AnalyzeLocation(ctx context.Context, req gen.AnalyzeLocationRequestObject) (gen.AnalyzeLocationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("analyze location: no request body after validation")
	}
	scope, workflowID, err := analysisScope(req.Body)
	if err != nil {
		return nil, err
	}
	loc, err := s.store.GetLocation(ctx, p.Account.ID, req.LocationId)
	if err != nil {
		return nil, fmt.Errorf("analyze location %s: %w", req.LocationId, err)
	}
	job, err := s.locationJob(ctx, p.Account.ID, loc)
	if err != nil {
		return nil, err
	}
	if scope == store.ScopeWorkflow {
		if err := job.narrow(workflowID); err != nil {
			return nil, err
		}
	}
	// A large location, or any when the caller asks, is analysed in the background (see jobs.go);
	// without a job queue every analysis runs in the request.
	async := req.Body.Async != nil && *req.Body.Async
	if s.jobs != nil && (async || s.large(job.input)) {
		return s.analyzeLater(ctx, p.Account, job, async)
	}
	return s.analyzeNow(ctx, p.Account, job)
}

// analysisScope checks the scope and workflow of an analysis request, which the schema alone
// cannot tie together.
func analysisScope(body *gen.AnalysisRequest) (scope, workflowID string, err error) {
	switch body.Scope {
	case gen.AnalysisRequestScopeWorkflow:
		if body.WorkflowId == nil {
			return "", "", invalidField("workflowId", gen.InvalidFieldLocationBody, "is required when scope is workflow")
		}
		return store.ScopeWorkflow, *body.WorkflowId, nil
	case gen.AnalysisRequestScopeLocation:
		if body.WorkflowId != nil {
			return "", "", invalidField("workflowId", gen.InvalidFieldLocationBody, "is only allowed when scope is workflow")
		}
		return store.ScopeLocation, "", nil
	default:
		return "", "", fmt.Errorf("analyze location: scope %q passed validation", body.Scope)
	}
}

// locationJob reads a location's workflows and context into the analysis of the whole location.
// The workflows come in GHL id order, so that the content hash does not depend on the order they
// were imported in; the location is complete, since they are every workflow stored for it.
func (s *Server) locationJob(ctx context.Context, accountID string, loc store.Location) (analysisJob, error) {
	stored, err := s.store.LocationWorkflows(ctx, accountID, loc.ID)
	if err != nil {
		return analysisJob{}, fmt.Errorf("read workflows of %s: %w", loc.ID, err)
	}
	if len(stored) == 0 {
		return analysisJob{}, newProblem(kindNoWorkflows,
			"The location has no workflows; import them with POST /v1/locations/{locationId}/workflows first.", nil)
	}
	locContext, err := s.storedContext(ctx, accountID, loc.ID)
	if err != nil {
		return analysisJob{}, err
	}
	input := &analyzer.Location{
		ID: loc.GHLLocationID, Context: locContext, Complete: true,
		Workflows: make([]analyzer.Workflow, len(stored)),
	}
	ids := make(map[string]string, len(stored))
	versions := make(map[string]int, len(stored))
	for i, w := range stored {
		if err := json.Unmarshal(w.Normalized, &input.Workflows[i]); err != nil {
			return analysisJob{}, fmt.Errorf("decode stored workflow %s: %w", w.ID, err)
		}
		ids[input.Workflows[i].ID] = w.ID
		versions[input.Workflows[i].ID] = w.GHLVersion
	}
	return analysisJob{
		locationID: loc.ID, scope: store.ScopeLocation, hash: analyzer.ContentHash(input),
		input: input, stored: ids, versions: versions,
	}, nil
}

// narrow turns a location job into the analysis of one of its workflows (id wfl_). A workflow the
// location does not have is not found.
func (j *analysisJob) narrow(workflowID string) error {
	ghlID := ""
	for g, id := range j.stored {
		if id == workflowID {
			ghlID = g
			break
		}
	}
	if ghlID == "" {
		return fmt.Errorf("analyze workflow %s: %w", workflowID, store.ErrNotFound)
	}
	j.scope, j.workflowID, j.only = store.ScopeWorkflow, workflowID, ghlID
	j.hash = analyzer.WorkflowHash(j.hash, ghlID)
	j.stored = map[string]string{ghlID: workflowID}
	return nil
}

// storedContext returns a location's stored context in the analyzer's model, nil when unknown.
func (s *Server) storedContext(ctx context.Context, accountID, locationID string) (*analyzer.Context, error) {
	raw, err := s.store.GetContext(ctx, accountID, locationID)
	if err != nil {
		return nil, fmt.Errorf("read context of %s: %w", locationID, err)
	}
	if raw == nil {
		return nil, nil
	}
	var c analyzer.Context
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode context of %s: %w", locationID, err)
	}
	return &c, nil
}

// run returns the account's analysis with the job's key when there is one (reused), and otherwise,
// when the account's analyses per hour allow it (a 429 problem when not), analyses the input and
// stores the result. When a concurrent request stores the same key first,
// its analysis is the answer, as if it had been found. Every run is counted by the account's tier
// and its result (see metrics.go).
func (s *Server) run(ctx context.Context, account store.Account, job analysisJob) (a store.Analysis, reused bool, err error) {
	defer func() { countAnalysis(ctx, account.Tier, reused, err) }()
	accountID := account.ID
	a, err = s.store.FindAnalysis(ctx, accountID, job.locationID, job.scope, job.workflowID, job.hash, analyzer.Version)
	switch {
	case err == nil:
		// The stored workflows are again what this analysis saw (unchanged, or an edit reverted),
		// so it is their last analysis: the workflow list shows its grade.
		if job.scope != store.ScopeDocument {
			if err := s.store.PointLastAnalysis(ctx, accountID, a.ID); err != nil {
				return store.Analysis{}, false, fmt.Errorf("reuse analysis %s: %w", a.ID, err)
			}
		}
		return a, true, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Analysis{}, false, fmt.Errorf("look up analysis: %w", err)
	}
	// Concurrent requests for the same analysis compute it once: in this process (the cache's
	// singleflight) and across instances (its lock in Redis). The others wait for it and answer the
	// stored result, as a reuse.
	computed := false
	key := cache.Scope{Account: accountID}.Key("run|" + job.locationID + "|" + job.scope + "|" + job.workflowID + "|" + job.hash + "|" + analyzer.Version)
	id, err := cache.GetOrFill(ctx, s.cache, cache.KindAnalysis, key, func(ctx context.Context) (*string, error) {
		computed = true
		stored, fresh, err := s.computeAnalysis(ctx, account, job)
		if err != nil {
			return nil, err
		}
		if !fresh {
			computed = false
		}
		a = stored
		return &stored.ID, nil
	}, cache.Expensive())
	if err != nil {
		return store.Analysis{}, false, err
	}
	if computed {
		return a, false, nil
	}
	if a, err = s.store.GetAnalysis(ctx, accountID, *id); err != nil {
		return store.Analysis{}, false, fmt.Errorf("read analysis %s computed concurrently: %w", *id, err)
	}
	return a, true, nil
}

// computeAnalysis analyses the job's input within the analysis deadline and stores the result, when the
// account's analyses per hour allow it (a 429 problem when not). fresh is false when a concurrent
// request stored the same analysis first: its analysis is the answer, as if it had been found.
func (s *Server) computeAnalysis(ctx context.Context, account store.Account, job analysisJob) (a store.Analysis, fresh bool, err error) {
	accountID := account.ID
	// Only an analysis that is computed and stored costs the account one of its analyses per hour:
	// one that fails after admission, for any reason, is given back. A background job paid when it
	// was accepted.
	if !job.prepaid {
		if err := s.admitAnalysis(ctx, account); err != nil {
			return store.Analysis{}, false, err
		}
		defer func() {
			if err != nil || !fresh {
				if rerr := s.refundAnalysis(ctx, account); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
		}()
	}
	start := time.Now()
	analysisCtx, cancel := context.WithTimeout(ctx, s.analysisTimeout)
	rep, err := analyzer.AnalyzeContext(analysisCtx, job.input)
	cancel()
	analysisDuration.UpdateDuration(start)
	if err != nil {
		return store.Analysis{}, false, analysisTimedOut(err, s.analysisTimeout)
	}
	if job.only != "" {
		narrowed, ok := rep.Only(job.only)
		if !ok {
			return store.Analysis{}, false, fmt.Errorf("analysis of %s has no workflow %s", job.locationID, job.only)
		}
		rep = narrowed
	}
	if rep.ContentHash != job.hash {
		// The key was computed before analysing; a report with another hash would be stored under
		// a key that no later lookup finds.
		return store.Analysis{}, false, fmt.Errorf("analysis content hash %s differs from its key %s", rep.ContentHash, job.hash)
	}
	in, err := newAnalysis(job, rep)
	if err != nil {
		return store.Analysis{}, false, err
	}
	a, err = s.store.CreateAnalysis(ctx, accountID, in)
	if errors.Is(err, store.ErrConflict) {
		a, err = s.store.FindAnalysis(ctx, accountID, job.locationID, job.scope, job.workflowID, job.hash, analyzer.Version)
		if err != nil {
			return store.Analysis{}, false, fmt.Errorf("look up analysis stored concurrently: %w", err)
		}
		return a, false, nil
	}
	if err != nil {
		return store.Analysis{}, false, fmt.Errorf("store analysis: %w", err)
	}
	countFindings(rep.Findings)
	return a, true, nil
}

// newAnalysis is what the store keeps of a report: the key, the scores, the report itself, one row
// per finding for the history's filters, and one result per stored workflow the report covers.
func newAnalysis(job analysisJob, rep *analyzer.Report) (store.NewAnalysis, error) {
	report, err := json.Marshal(rep)
	if err != nil {
		return store.NewAnalysis{}, fmt.Errorf("encode report: %w", err)
	}
	in := store.NewAnalysis{
		LocationID: job.locationID, Scope: job.scope, WorkflowID: job.workflowID,
		ContentHash: rep.ContentHash, AnalyzerVersion: rep.AnalyzerVersion, Grade: rep.Grade, Score: rep.Score,
		Errors: rep.Counts.Error, Warnings: rep.Counts.Warning, Infos: rep.Counts.Info,
		MaxSeverity: rep.Counts.MaxRank(), Report: report,
		Findings: make([]store.FindingRow, 0, len(rep.Findings)),
	}
	for _, f := range rep.Findings {
		in.Findings = append(in.Findings, store.FindingRow{RuleID: f.RuleID, Severity: f.Severity, WorkflowID: f.WorkflowID, StepID: f.StepID})
	}
	for _, w := range rep.Workflows {
		if id, ok := job.stored[w.ID]; ok {
			r := store.WorkflowResult{
				WorkflowID: id, Score: w.Score, Grade: w.Grade,
				Errors: w.Counts.Error, Warnings: w.Counts.Warning, Infos: w.Counts.Info,
			}
			if v, ok := job.versions[w.ID]; ok {
				r.GHLVersion = &v
			}
			in.PerWorkflow = append(in.PerWorkflow, r)
		}
	}
	return in, nil
}

// AnalyzeDocument analyses a posted document without storing its workflows. With a location, the
// analysis joins the location's history, and a document without context borrows the location's.
func (s *Server) AnalyzeDocument(ctx context.Context, req gen.AnalyzeDocumentRequestObject) (gen.AnalyzeDocumentResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("analyze document: no request body after validation")
	}
	var loc *store.Location
	if id := req.Body.LocationId; id != nil {
		l, err := s.store.GetLocation(ctx, p.Account.ID, *id)
		if err != nil {
			return nil, fmt.Errorf("analyze document for location %s: %w", *id, err)
		}
		loc = &l
	}
	data, err := rawBody(ctx)
	if err != nil {
		return nil, err
	}
	// The validator has checked the body; only the document's own bytes are taken from it.
	var envelope struct {
		Document json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal(data, &envelope); err != nil {
		return nil, fmt.Errorf("analyze document: decode validated body: %w", err)
	}
	res, err := s.parseDocument(envelope.Document, "$.document")
	if err != nil {
		return nil, err
	}
	input := res.Location
	if len(input.Workflows) == 0 {
		return nil, newProblem(kindNoWorkflows, "The document holds no workflows.", nil)
	}
	job := analysisJob{scope: store.ScopeDocument, input: input}
	if loc != nil {
		job.locationID = loc.ID
		if input.ID == "" {
			input.ID = loc.GHLLocationID
		}
		if input.Context == nil {
			if input.Context, err = s.storedContext(ctx, p.Account.ID, loc.ID); err != nil {
				return nil, err
			}
		}
	}
	job.hash = analyzer.ContentHash(input)
	a, reused, err := s.run(ctx, p.Account, job)
	if err != nil {
		return nil, err
	}
	if reused {
		return gen.AnalyzeDocument200JSONResponse{Body: toAnalysisRun(a, true)}, nil
	}
	return gen.AnalyzeDocument201JSONResponse{
		Body:    toAnalysisRun(a, false),
		Headers: gen.AnalyzeDocument201ResponseHeaders{Location: "/v1/analyses/" + a.ID},
	}, nil
}

// GetAnalysis returns one of the caller's analyses with its report.
func (s *Server) GetAnalysis(ctx context.Context, req gen.GetAnalysisRequestObject) (gen.GetAnalysisResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	// An analysis never changes, so it is kept encoded and compressed, under the account: deleting
	// its location moves the account's analysis generation.
	enc, err := cache.GetOrFill(ctx, s.cache, cache.KindAnalysis, cache.Scope{Account: p.Account.ID}.Key(req.AnalysisId),
		func(ctx context.Context) (*encodedAnalysis, error) {
			a, err := s.store.GetAnalysis(ctx, p.Account.ID, req.AnalysisId)
			if err != nil {
				return nil, fmt.Errorf("get analysis %s: %w", req.AnalysisId, err)
			}
			// A sync that changes what is stale bumps the account's analyses (see ghl.Service).
			if err := s.markStale(ctx, p.Account.ID, &a.AnalysisSummary); err != nil {
				return nil, err
			}
			return encodeAnalysis(a)
		})
	if err != nil {
		return nil, err
	}
	if etagMatches(req.Params.IfNoneMatch, enc.ETag) {
		return gen.GetAnalysis304Response{Headers: gen.GetAnalysis304ResponseHeaders{CacheControl: analysisCacheControl, ETag: enc.ETag}}, nil
	}
	return analysisResponse{enc: enc, gzip: gzipWanted(ctx) && len(enc.JSON) >= s.gzipMinBytes}, nil
}

// ListAnalyses returns one page of a location's history, filtered.
func (s *Server) ListAnalyses(ctx context.Context, req gen.ListAnalysesRequestObject) (gen.ListAnalysesResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var f store.HistoryFilter
	if v := req.Params.WorkflowId; v != nil {
		f.WorkflowID = *v
	}
	if v := req.Params.RuleId; v != nil {
		f.RuleID = *v
	}
	if v := req.Params.MinSeverity; v != nil {
		f.MinSeverity = analyzer.SeverityRank(string(*v))
	}
	f.Since, f.Until = req.Params.Since, req.Params.Until
	page := toPage(req.Params.Limit, req.Params.Cursor)
	etag, err := s.listETag(ctx, cache.KindHistoryPage, p.Account.ID, req.LocationId, historyFilterKey(f), page)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListAnalyses(ctx, p.Account.ID, req.LocationId, f, page)
	if err != nil {
		return nil, fmt.Errorf("list analyses of %s: %w", req.LocationId, err)
	}
	if etagMatches(req.Params.IfNoneMatch, etag) {
		return gen.ListAnalyses304Response{Headers: gen.ListAnalyses304ResponseHeaders{CacheControl: analysisCacheControl, ETag: etag}}, nil
	}
	// The page may be the cache's; staleness is read fresh (a sync also moves the validator).
	items = slices.Clone(items)
	ptrs := make([]*store.AnalysisSummary, len(items))
	for i := range items {
		ptrs[i] = &items[i]
	}
	if err := s.markStale(ctx, p.Account.ID, ptrs...); err != nil {
		return nil, err
	}
	out := gen.AnalysisList{Items: mapSlice(items, toAnalysisSummary)}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListAnalyses200JSONResponse{Body: out, Headers: gen.ListAnalyses200ResponseHeaders{CacheControl: analysisCacheControl, ETag: etag}}, nil
}

// DiffAnalyses compares the findings of two of the caller's analyses of the same location and
// scope: the analysis of the path is "to", the one named by against is "from".
func (s *Server) DiffAnalyses(ctx context.Context, req gen.DiffAnalysesRequestObject) (gen.DiffAnalysesResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.compare(ctx, p.Account.ID, req.Params.Against, req.AnalysisId)
	if err != nil {
		return nil, err
	}
	if err := s.markStale(ctx, p.Account.ID, &c.from.AnalysisSummary, &c.to.AnalysisSummary); err != nil {
		return nil, err
	}
	return gen.DiffAnalyses200JSONResponse{Body: gen.AnalysisDiff{
		From: toAnalysisSummary(c.from.AnalysisSummary),
		To:   toAnalysisSummary(c.to.AnalysisSummary),
		Counts: gen.DiffCounts{
			New: int32(len(c.added)), Fixed: int32(len(c.fixed)), Unchanged: int32(len(c.unchanged)),
		},
		New:       mapSlice(c.added, toFinding),
		Fixed:     mapSlice(c.fixed, toFinding),
		Unchanged: mapSlice(c.unchanged, toFinding),
	}}, nil
}

// comparison is two analyses of the account, their reports and their findings paired.
type comparison struct {
	from, to       store.Analysis
	fromRep, toRep analyzer.Report
	findingDiff
}

// compare reads two of the account's analyses (another account's is ErrNotFound), refuses a pair
// that cannot be compared (a 422 problem saying why), and pairs their findings.
func (s *Server) compare(ctx context.Context, accountID, fromID, toID string) (comparison, error) {
	var c comparison
	var err error
	if c.to, err = s.store.GetAnalysis(ctx, accountID, toID); err != nil {
		return c, fmt.Errorf("diff analysis %s: %w", toID, err)
	}
	if c.from, err = s.store.GetAnalysis(ctx, accountID, fromID); err != nil {
		return c, fmt.Errorf("diff against analysis %s: %w", fromID, err)
	}
	if why := incomparable(c.from.AnalysisSummary, c.to.AnalysisSummary); why != "" {
		return c, newProblem(kindNotComparable, why, nil)
	}
	if err := json.Unmarshal(c.from.Report, &c.fromRep); err != nil {
		return c, fmt.Errorf("decode report of %s: %w", c.from.ID, err)
	}
	if err := json.Unmarshal(c.to.Report, &c.toRep); err != nil {
		return c, fmt.Errorf("decode report of %s: %w", c.to.ID, err)
	}
	c.findingDiff = diffFindings(c.fromRep.Findings, c.toRep.Findings)
	return c, nil
}

// incomparable explains why two analyses cannot be compared, or returns "" when they can: they must
// be of the same location (or both of none) and scope and, for the workflow scope, workflow.
func incomparable(from, to store.AnalysisSummary) string {
	const rule = "only analyses of the same location and scope, and for the workflow scope the same workflow, can be compared"
	orNone := func(s string) string {
		if s == "" {
			return "no location"
		}
		return "location " + s
	}
	switch {
	case from.LocationID != to.LocationID:
		return fmt.Sprintf("Analysis %s is of %s and %s of %s; %s.", to.ID, orNone(to.LocationID), from.ID, orNone(from.LocationID), rule)
	case from.Scope != to.Scope:
		return fmt.Sprintf("Analysis %s has scope %s and %s has scope %s; %s.", to.ID, to.Scope, from.ID, from.Scope, rule)
	case from.WorkflowID != to.WorkflowID:
		return fmt.Sprintf("Analysis %s reports on workflow %s and %s on workflow %s; %s.", to.ID, to.WorkflowID, from.ID, from.WorkflowID, rule)
	}
	return ""
}

// findingDiff is what changed between two analyses' findings.
type findingDiff struct {
	added, fixed, unchanged []analyzer.Finding
}

// diffFindings matches the findings of two reports by rule, workflow and step. A place (rule,
// workflow, step) can hold several findings, such as one per unfiltered trigger of a workflow, so
// findings are first paired when their messages are equal too, and the rest of each place are then
// paired in report order: a finding whose wording changed (a count in its message, a renamed step)
// is unchanged, not fixed and new. Unchanged findings are given as "to" has them; every list keeps
// its report's order.
func diffFindings(from, to []analyzer.Finding) findingDiff {
	type place struct{ rule, workflow, step string }
	type exact struct {
		place
		message string
	}
	placeOf := func(f analyzer.Finding) place { return place{f.RuleID, f.WorkflowID, f.StepID} }

	byExact := make(map[exact][]int, len(from))
	for i, f := range from {
		k := exact{placeOf(f), f.Message}
		byExact[k] = append(byExact[k], i)
	}
	fromMatched := make([]bool, len(from))
	toMatched := make([]bool, len(to))
	for i, f := range to {
		k := exact{placeOf(f), f.Message}
		if q := byExact[k]; len(q) > 0 {
			fromMatched[q[0]], toMatched[i] = true, true
			byExact[k] = q[1:]
		}
	}
	byPlace := make(map[place][]int)
	for i, f := range from {
		if !fromMatched[i] {
			byPlace[placeOf(f)] = append(byPlace[placeOf(f)], i)
		}
	}
	for i, f := range to {
		if toMatched[i] {
			continue
		}
		if q := byPlace[placeOf(f)]; len(q) > 0 {
			fromMatched[q[0]], toMatched[i] = true, true
			byPlace[placeOf(f)] = q[1:]
		}
	}
	d := findingDiff{added: []analyzer.Finding{}, fixed: []analyzer.Finding{}, unchanged: []analyzer.Finding{}}
	for i, f := range to {
		if toMatched[i] {
			d.unchanged = append(d.unchanged, f)
		} else {
			d.added = append(d.added, f)
		}
	}
	for i, f := range from {
		if !fromMatched[i] {
			d.fixed = append(d.fixed, f)
		}
	}
	return d
}

// severityNames names the ranks of MaxSeverity.
var severityNames = [...]gen.MaxSeverity{
	gen.MaxSeverityNone, gen.MaxSeverityInfo, gen.MaxSeverityWarning, gen.MaxSeverityError,
}

// toAnalysisSummary converts a stored analysis without its report.
func toAnalysisSummary(a store.AnalysisSummary) gen.AnalysisSummary {
	out := gen.AnalysisSummary{
		Id: a.ID, Scope: gen.AnalysisScope(a.Scope), ContentHash: a.ContentHash, AnalyzerVersion: a.AnalyzerVersion,
		Score: int32(a.Score), Grade: gen.Grade(a.Grade), Counts: counts(a.Errors, a.Warnings, a.Infos),
		MaxSeverity: severityNames[min(max(a.MaxSeverity, 0), len(severityNames)-1)], CreatedAt: a.CreatedAt,
		Stale: a.Stale,
	}
	if a.LocationID != "" {
		out.LocationId = &a.LocationID
	}
	if a.WorkflowID != "" {
		out.WorkflowId = &a.WorkflowID
	}
	return out
}

// toAnalysis converts a stored analysis with its report, which goes out as it was stored.
func toAnalysis(a store.Analysis) gen.Analysis {
	s := toAnalysisSummary(a.AnalysisSummary)
	return gen.Analysis{
		Id: s.Id, LocationId: s.LocationId, Scope: s.Scope, WorkflowId: s.WorkflowId, ContentHash: s.ContentHash,
		AnalyzerVersion: s.AnalyzerVersion, Score: s.Score, Grade: s.Grade, Counts: s.Counts,
		MaxSeverity: s.MaxSeverity, CreatedAt: s.CreatedAt, Report: a.Report, Stale: s.Stale,
	}
}

// toAnalysisRun converts the answer to an analysis request.
func toAnalysisRun(a store.Analysis, reused bool) gen.AnalysisRun {
	s := toAnalysis(a)
	return gen.AnalysisRun{
		Id: s.Id, LocationId: s.LocationId, Scope: s.Scope, WorkflowId: s.WorkflowId, ContentHash: s.ContentHash,
		AnalyzerVersion: s.AnalyzerVersion, Score: s.Score, Grade: s.Grade, Counts: s.Counts,
		MaxSeverity: s.MaxSeverity, CreatedAt: s.CreatedAt, Report: s.Report, Reused: reused, Stale: s.Stale,
	}
}

// toFinding converts a finding of a report; empty optional parts are left out, as in the report.
func toFinding(f analyzer.Finding) gen.Finding {
	out := gen.Finding{
		RuleId: f.RuleID, Category: f.Category, Severity: gen.Severity(f.Severity), Title: f.Title,
		Message: f.Message, Why: f.Why, Fix: f.Fix,
		WorkflowId: nonEmpty(f.WorkflowID), WorkflowName: nonEmpty(f.WorkflowName),
		StepId: nonEmpty(f.StepID), StepName: nonEmpty(f.StepName),
	}
	if len(f.Related) > 0 {
		out.Related = &f.Related
	}
	return out
}

// nonEmpty returns a pointer to s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// markStale sets Stale on the analyses GHL has moved past, with one query for them all. A document
// analysis read no stored workflow and is never stale, so it costs nothing.
func (s *Server) markStale(ctx context.Context, accountID string, items ...*store.AnalysisSummary) error {
	ids := make([]string, 0, len(items))
	for _, a := range items {
		if a.LocationID != "" && a.Scope != store.ScopeDocument {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	stale, err := s.store.StaleAnalyses(ctx, accountID, ids)
	if err != nil {
		return fmt.Errorf("read which analyses are stale: %w", err)
	}
	for _, a := range items {
		a.Stale = stale[a.ID]
	}
	return nil
}
