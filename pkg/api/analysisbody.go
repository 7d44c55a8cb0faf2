package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// analysisCacheControl lets the client, and only the client, keep an analysis and revalidate it.
const analysisCacheControl = "private, no-cache"

// encodedAnalysis is a stored analysis encoded once for the wire: its JSON, the same gzipped, and
// the strong ETag of the JSON. An analysis never changes once stored, so this encoding can be kept
// (the cache keeps it) and written out as it is, with no JSON encoding or compression per request.
type encodedAnalysis struct {
	JSON []byte `json:"json"`
	Gzip []byte `json:"gzip"`
	ETag string `json:"etag"`
}

// encodeAnalysis encodes a stored analysis as GET /v1/analyses/{id} answers it.
func encodeAnalysis(a store.Analysis) (*encodedAnalysis, error) {
	var body bytes.Buffer
	if err := json.NewEncoder(&body).Encode(toAnalysis(a)); err != nil {
		return nil, fmt.Errorf("encode analysis %s: %w", a.ID, err)
	}
	var zipped bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zipped, gzipLevel)
	if err != nil {
		return nil, fmt.Errorf("gzip analysis %s: %w", a.ID, err)
	}
	if _, err := zw.Write(body.Bytes()); err != nil {
		return nil, fmt.Errorf("gzip analysis %s: %w", a.ID, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip analysis %s: %w", a.ID, err)
	}
	sum := sha256.Sum256(body.Bytes())
	return &encodedAnalysis{JSON: body.Bytes(), Gzip: zipped.Bytes(), ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// analysisResponse writes an encoded analysis: gzipped as it is kept when the client takes gzip and
// the body reaches the compression threshold, as JSON otherwise.
type analysisResponse struct {
	enc  *encodedAnalysis
	gzip bool
}

var _ gen.GetAnalysisResponseObject = analysisResponse{}

// VisitGetAnalysisResponse writes the answer with its validators.
func (r analysisResponse) VisitGetAnalysisResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("Cache-Control", analysisCacheControl)
	h.Set("ETag", r.enc.ETag)
	body := r.enc.JSON
	if r.gzip {
		// The compression middleware leaves a body alone whose Content-Encoding is set.
		h.Set(echo.HeaderContentEncoding, "gzip")
		body = r.enc.Gzip
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// gzipWantedKey is the context key of whether the client takes a gzipped answer.
type gzipWantedKey struct{}

// negotiateGzip is a strict-handler middleware that tells the operations serving pre-encoded bodies
// (an analysis by id) whether the client takes gzip, as the compression middleware would decide:
// Accept-Encoding lists gzip without q=0 and the request does not send X-No-Compression.
func negotiateGzip(next gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if operationID != opGetAnalysis {
		return next
	}
	return func(c *echo.Context, request any) (any, error) {
		req := c.Request()
		wanted := req.Header.Get("X-No-Compression") == "" && acceptsGzip(req.Header.Get(echo.HeaderAcceptEncoding))
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), gzipWantedKey{}, wanted)))
		return next(c, request)
	}
}

// opGetAnalysis is the operation id of an analysis by id.
const opGetAnalysis = "GetAnalysis"

// gzipWanted reports what negotiateGzip found for the request of ctx.
func gzipWanted(ctx context.Context) bool {
	wanted, _ := ctx.Value(gzipWantedKey{}).(bool)
	return wanted
}
