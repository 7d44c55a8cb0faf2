package api

// Placeholders while the report handlers are being written; the file is deleted when they land.

import (
	"context"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// GetAnalysisReport is not served yet.
func (s *Server) GetAnalysisReport(context.Context, gen.GetAnalysisReportRequestObject) (gen.GetAnalysisReportResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// GetDiffReport is not served yet.
func (s *Server) GetDiffReport(context.Context, gen.GetDiffReportRequestObject) (gen.GetDiffReportResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}
