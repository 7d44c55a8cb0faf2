package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/elnormous/contenttype"
	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/report"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// kindNotAcceptable answers a report request whose Accept admits neither HTML nor Markdown.
var kindNotAcceptable = kind{http.StatusNotAcceptable, "not-acceptable", "Not acceptable",
	"The Accept header admits none of the representations this operation offers."}

// The representations of a report, and the operations that offer them.
const (
	mediaHTML           = "text/html"
	mediaMarkdown       = "text/markdown"
	opGetAnalysisReport = "GetAnalysisReport"
	opGetDiffReport     = "GetDiffReport"
)

// reportMediaKey is the context key of the representation a report request negotiated.
type reportMediaKey struct{}

// reportOffers are the representations of a report, HTML first: it is chosen when Accept is
// absent or welcomes both equally.
var reportOffers = []contenttype.MediaType{contenttype.NewMediaType(mediaHTML), contenttype.NewMediaType(mediaMarkdown)}

// negotiateReport is a strict-handler middleware for the report operations: it chooses HTML or
// Markdown from the request's Accept header (RFC 9110 §12.5.1, by elnormous/contenttype) and
// answers 406 when Accept admits neither. An Accept header that does not parse is treated as
// absent, as a browser's odd header should not cost the reader the page.
func negotiateReport(next gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if operationID != opGetAnalysisReport && operationID != opGetDiffReport {
		return next
	}
	return func(c *echo.Context, request any) (any, error) {
		req := c.Request()
		accept := strings.Join(req.Header.Values(echo.HeaderAccept), ", ")
		media := mediaHTML
		if strings.TrimSpace(accept) != "" {
			chosen, _, err := contenttype.GetAcceptableMediaTypeFromHeader(accept, reportOffers)
			switch {
			case errors.Is(err, contenttype.ErrNoAcceptableTypeFound):
				return nil, newProblem(kindNotAcceptable, fmt.Sprintf("Accept %q admits none of %s, %s.", accept, mediaHTML, mediaMarkdown), nil)
			case err == nil:
				media = chosen.MIME()
			}
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), reportMediaKey{}, media)))
		return next(c, request)
	}
}

// reportMedia returns the representation negotiateReport chose.
func reportMedia(ctx context.Context) string {
	if m, ok := ctx.Value(reportMediaKey{}).(string); ok {
		return m
	}
	return mediaHTML
}

// reportResponse is a rendered report. It names the charset, which the generated responses leave
// out, and says that the answer depends on Accept.
type reportResponse struct {
	media string
	body  []byte
}

var (
	_ gen.GetAnalysisReportResponseObject = reportResponse{}
	_ gen.GetDiffReportResponseObject     = reportResponse{}
)

func (r reportResponse) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set(echo.HeaderContentType, r.media+"; charset=utf-8")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(r.body)))
	h.Add(echo.HeaderVary, echo.HeaderAccept)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.body)
	return err
}

// VisitGetAnalysisReportResponse writes the report.
func (r reportResponse) VisitGetAnalysisReportResponse(w http.ResponseWriter) error {
	return r.write(w)
}

// VisitGetDiffReportResponse writes the report.
func (r reportResponse) VisitGetDiffReportResponse(w http.ResponseWriter) error { return r.write(w) }

// GetAnalysisReport renders one of the caller's analyses as the client report: HTML with a drawing
// of every analysed workflow, or the Markdown report.
func (s *Server) GetAnalysisReport(ctx context.Context, req gen.GetAnalysisReportRequestObject) (gen.GetAnalysisReportResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAnalysis(ctx, p.Account.ID, req.AnalysisId)
	if err != nil {
		return nil, fmt.Errorf("report of analysis %s: %w", req.AnalysisId, err)
	}
	var rep analyzer.Report
	if err := json.Unmarshal(a.Report, &rep); err != nil {
		return nil, fmt.Errorf("decode report of %s: %w", a.ID, err)
	}
	var buf bytes.Buffer
	media := reportMedia(ctx)
	if media == mediaMarkdown {
		if err := analyzer.Write(&buf, &rep, analyzer.FormatMarkdown); err != nil {
			return nil, fmt.Errorf("report of analysis %s: %w", a.ID, err)
		}
		return reportResponse{media: media, body: buf.Bytes()}, nil
	}
	loc, why, err := s.analysedInput(ctx, p.Account.ID, a)
	if err != nil {
		return nil, err
	}
	if err := report.Render(ctx, &buf, &rep, report.Options{Location: loc, NoDrawings: why}); err != nil {
		return nil, fmt.Errorf("report of analysis %s: %w", a.ID, err)
	}
	return reportResponse{media: media, body: buf.Bytes()}, nil
}

// analysedInput returns the workflows an analysis saw, for its drawings: the location's stored
// workflows, as long as they are still what was analysed (their content hash, or for the workflow
// scope the narrowed hash, is the analysis's). Otherwise it returns nil and why, in a sentence for
// the report: a posted document is not stored, and stored workflows may have changed since.
func (s *Server) analysedInput(ctx context.Context, accountID string, a store.Analysis) (*analyzer.Location, string, error) {
	const changed = "The location's workflows have changed since this analysis, so they are not drawn; analyse the location again for a report with drawings."
	if a.Scope == store.ScopeDocument || a.LocationID == "" {
		return nil, "This analysis is of a posted document, whose workflows are not stored, so they are not drawn.", nil
	}
	loc, err := s.store.GetLocation(ctx, accountID, a.LocationID)
	if err != nil {
		return nil, "", fmt.Errorf("report of analysis %s: read location %s: %w", a.ID, a.LocationID, err)
	}
	job, err := s.locationJob(ctx, accountID, loc)
	var empty *Problem
	if errors.As(err, &empty) && empty.Slug == kindNoWorkflows.slug {
		return nil, changed, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("report of analysis %s: %w", a.ID, err)
	}
	hash := job.hash
	if a.Scope == store.ScopeWorkflow {
		hash = ""
		for ghlID, id := range job.stored {
			if id == a.WorkflowID {
				hash = analyzer.WorkflowHash(job.hash, ghlID)
			}
		}
	}
	if hash != a.ContentHash {
		return nil, changed, nil
	}
	return job.input, "", nil
}

// GetDiffReport renders the comparison of two of the caller's analyses, paired as DiffAnalyses pairs
// them, as a before/after report in HTML or Markdown.
func (s *Server) GetDiffReport(ctx context.Context, req gen.GetDiffReportRequestObject) (gen.GetDiffReportResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.compare(ctx, p.Account.ID, req.Params.Against, req.AnalysisId)
	if err != nil {
		return nil, err
	}
	in := report.Diff{
		From: &c.fromRep, To: &c.toRep, FromLabel: analysisLabel(c.from.AnalysisSummary), ToLabel: analysisLabel(c.to.AnalysisSummary),
		Fixed: c.fixed, New: c.added, Unchanged: c.unchanged,
	}
	var buf bytes.Buffer
	media := reportMedia(ctx)
	if media == mediaMarkdown {
		err = report.WriteDiffMarkdown(&buf, in)
	} else {
		err = report.RenderDiff(&buf, in)
	}
	if err != nil {
		return nil, fmt.Errorf("diff report of %s against %s: %w", c.to.ID, c.from.ID, err)
	}
	return reportResponse{media: media, body: buf.Bytes()}, nil
}

// analysisLabel names an analysis on a report: its id and when it was made.
func analysisLabel(a store.AnalysisSummary) string {
	return a.ID + " of " + a.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")
}
