package api

// Placeholders while the simulate handlers are being written; the file is deleted when they land.

import (
	"context"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// ListSimulations is not served yet.
func (s *Server) ListSimulations(context.Context, gen.ListSimulationsRequestObject) (gen.ListSimulationsResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// SimulateLocation is not served yet.
func (s *Server) SimulateLocation(context.Context, gen.SimulateLocationRequestObject) (gen.SimulateLocationResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// SimulateDocument is not served yet.
func (s *Server) SimulateDocument(context.Context, gen.SimulateDocumentRequestObject) (gen.SimulateDocumentResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// GetSimulation is not served yet.
func (s *Server) GetSimulation(context.Context, gen.GetSimulationRequestObject) (gen.GetSimulationResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}
