package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// The kinds of problem that a workflow document or an analysis request can cause. Their slugs are
// part of the API, like those in problem.go.
var (
	kindInvalidDocument = kind{http.StatusUnprocessableEntity, "invalid-document", "Unreadable document",
		"The document cannot be read as workflows."}
	kindLimitExceeded = kind{http.StatusUnprocessableEntity, "limit-exceeded", "Limit exceeded",
		"The document is over one of the service's limits."}
	kindNoWorkflows = kind{http.StatusUnprocessableEntity, "no-workflows", "Nothing to analyse",
		"There are no workflows to analyse."}
	kindNotComparable = kind{http.StatusUnprocessableEntity, "not-comparable", "Analyses not comparable",
		"Only analyses of the same location and scope can be compared."}
)

// Operations whose request body is a workflow document that the importer reads from the bytes the
// caller sent (operation ids as the generated strict handler names them).
const (
	opImportWorkflows = "ImportWorkflows"
	opAnalyzeDocument = "AnalyzeDocument"
)

type rawBodyKey struct{}

// keepDocumentBody is a strict-handler middleware that hands the operations reading workflow
// documents the request body exactly as it was sent. The generated handler binds the value the
// validator decoded, and re-encoding that value would sort every object's keys and lose the
// document's own order, which the stored raw document must keep. The spec gate has already read
// the whole body within the size limit and left it replayable through GetBody. UpdateAccount
// needs the body too, to tell a member left out from one sent as null (see opUpdateAccount).
func keepDocumentBody(next gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if operationID != opImportWorkflows && operationID != opAnalyzeDocument && operationID != opUpdateAccount {
		return next
	}
	return func(c *echo.Context, request any) (any, error) {
		req := c.Request()
		if req.GetBody == nil {
			return nil, fmt.Errorf("%s: the request body cannot be replayed: the spec gate did not read it", operationID)
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%s: replay request body: %w", operationID, err)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("%s: read replayed request body: %w", operationID, err)
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), rawBodyKey{}, data)))
		return next(c, request)
	}
}

// rawBody returns the request body that keepDocumentBody kept for the handler.
func rawBody(ctx context.Context) ([]byte, error) {
	data, ok := ctx.Value(rawBodyKey{}).([]byte)
	if !ok {
		return nil, errors.New("no raw request body: the operation is missing from keepDocumentBody")
	}
	return data, nil
}

// parseDocument reads a workflow document within the server's limits. base is the JSON path of the
// document in the request body ("$" when the body is the document); the importer's paths, relative
// to the document, are rebased onto it so that they point into what the caller sent.
func (s *Server) parseDocument(data []byte, base string) (*importer.Result, error) {
	res, err := importer.Parse(data, s.documentLimits)
	if err != nil {
		return nil, documentProblem(err, base)
	}
	return res, nil
}

// documentProblem turns an importer error into the problem the caller sees: 422 invalid-document
// naming the JSON path of the offending value, or 422 limit-exceeded naming the limit and its
// maximum. Any other error is returned as it is, an internal error.
func documentProblem(err error, base string) error {
	if e, ok := errors.AsType[*importer.Error](err); ok {
		path := base + strings.TrimPrefix(e.Path, "$")
		p := newProblem(kindInvalidDocument, fmt.Sprintf("The document cannot be read: %s: %s.", path, e.Message), err)
		p.InvalidFields = []gen.InvalidField{{Field: path, Location: gen.InvalidFieldLocationBody, Reason: e.Message}}
		return p
	}
	if e, ok := errors.AsType[*importer.LimitError](err); ok {
		return newProblem(kindLimitExceeded, limitDetail(e), err)
	}
	return fmt.Errorf("read document: %w", err)
}

// limitDetail names the limit an input went over, its maximum and what the input had, in the words
// the API documentation uses for the limits.
func limitDetail(e *importer.LimitError) string {
	switch e.Limit {
	case importer.LimitWorkflows:
		// The importer may stop counting at the first workflow over the limit, so Got is a lower bound.
		return fmt.Sprintf("The document holds at least %d workflows; at most %d workflows per import are accepted.", e.Got, e.Max)
	case importer.LimitSteps:
		return fmt.Sprintf("A workflow of the document has %d steps; at most %d steps per workflow are accepted.", e.Got, e.Max)
	case importer.LimitDepth:
		return fmt.Sprintf("The document nests %d levels deep; at most %d levels of nesting are accepted.", e.Got, e.Max)
	case importer.LimitContext:
		where := ""
		if e.Path != "" {
			where = fmt.Sprintf(" (the count went over at %s)", e.Path)
		}
		return fmt.Sprintf("The document describes at least %d location context objects%s; at most %d per document are accepted.", e.Got, where, e.Max)
	default:
		return fmt.Sprintf("The document exceeds the limit %s: %d, at most %d.", e.Limit, e.Got, e.Max)
	}
}
