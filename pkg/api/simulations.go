package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// SimulationStore keeps a location's simulations. Errors: ErrNotFound for a location or simulation
// that is not the account's, ErrInvalid for a simulation that breaks the store's rules, and
// ErrInvalidCursor for a cursor the store did not issue.
type SimulationStore interface {
	CreateSimulation(ctx context.Context, accountID string, in store.NewSimulation) (store.Simulation, error)
	GetSimulation(ctx context.Context, accountID, simulationID string) (store.Simulation, error)
	ListSimulations(ctx context.Context, accountID, locationID string, p store.Page) ([]store.SimulationSummary, string, error)
}

// kindInvalidSimulation is a request the engine cannot use: an unknown time zone or event type, an
// event before the start. Its slug is part of the API.
var kindInvalidSimulation = kind{http.StatusUnprocessableEntity, "invalid-simulation", "Unusable simulation",
	"The simulation cannot run with this request."}

// SimulateLocation runs a contact through the location's stored workflows and records the result.
func (s *Server) SimulateLocation(ctx context.Context, req gen.SimulateLocationRequestObject) (gen.SimulateLocationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("simulate location: no request body after validation")
	}
	loc, err := s.store.GetLocation(ctx, p.Account.ID, req.LocationId)
	if err != nil {
		return nil, fmt.Errorf("simulate location %s: %w", req.LocationId, err)
	}
	job, err := s.locationJob(ctx, p.Account.ID, loc)
	if err != nil {
		return nil, err
	}
	simReq, err := convertJSON[simulate.Request](req.Body)
	if err != nil {
		return nil, fmt.Errorf("simulate location: %w", err)
	}
	// A request without a zone takes the location's: the account's zone is the location's own.
	if simReq.AccountTimezone == "" {
		simReq.AccountTimezone = loc.Timezone
	}
	res, err := runSimulation(job.input, simReq)
	if err != nil {
		return nil, err
	}
	in, err := newSimulation(loc.ID, simReq, res)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.CreateSimulation(ctx, p.Account.ID, in)
	if err != nil {
		return nil, fmt.Errorf("store simulation of %s: %w", loc.ID, err)
	}
	body, err := toSimulation(stored)
	if err != nil {
		return nil, err
	}
	return gen.SimulateLocation201JSONResponse{Body: body, Headers: gen.SimulateLocation201ResponseHeaders{Location: "/v1/simulations/" + stored.ID}}, nil
}

// SimulateDocument runs a contact through a posted document's workflows; nothing is stored.
func (s *Server) SimulateDocument(ctx context.Context, req gen.SimulateDocumentRequestObject) (gen.SimulateDocumentResponseObject, error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("simulate document: no request body after validation")
	}
	doc, err := json.Marshal(req.Body.Document)
	if err != nil {
		return nil, fmt.Errorf("simulate document: encode document: %w", err)
	}
	parsed, err := s.parseDocument(doc, "$.document")
	if err != nil {
		return nil, err
	}
	if len(parsed.Location.Workflows) == 0 {
		return nil, newProblem(kindNoWorkflows, "The document holds no workflows.", nil)
	}
	simReq, err := convertJSON[simulate.Request](gen.SimulationRequest{
		Contact: req.Body.Contact, Start: req.Body.Start, Events: req.Body.Events, Horizon: req.Body.Horizon,
		AccountTimezone: req.Body.AccountTimezone,
	})
	if err != nil {
		return nil, fmt.Errorf("simulate document: %w", err)
	}
	res, err := runSimulation(parsed.Location, simReq)
	if err != nil {
		return nil, err
	}
	body, err := convertJSON[gen.SimulationResult](res)
	if err != nil {
		return nil, fmt.Errorf("simulate document: %w", err)
	}
	return gen.SimulateDocument200JSONResponse{Body: body}, nil
}

// GetSimulation returns one of the caller's simulations.
func (s *Server) GetSimulation(ctx context.Context, req gen.GetSimulationRequestObject) (gen.GetSimulationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.GetSimulation(ctx, p.Account.ID, req.SimulationId)
	if err != nil {
		return nil, fmt.Errorf("get simulation %s: %w", req.SimulationId, err)
	}
	body, err := toSimulation(stored)
	if err != nil {
		return nil, err
	}
	return gen.GetSimulation200JSONResponse{Body: body}, nil
}

// ListSimulations returns one page of a location's simulations, newest first.
func (s *Server) ListSimulations(ctx context.Context, req gen.ListSimulationsRequestObject) (gen.ListSimulationsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListSimulations(ctx, p.Account.ID, req.LocationId, toPage(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, fmt.Errorf("list simulations of %s: %w", req.LocationId, err)
	}
	out := gen.SimulationList{Items: mapSlice(items, toSimulationSummary)}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListSimulations200JSONResponse{Body: out}, nil
}

// runSimulation runs the engine with its default limits and turns its errors into problems: 422
// invalid-simulation naming the field, or 422 limit-exceeded naming the limit.
func runSimulation(loc *analyzer.Location, req simulate.Request) (*simulate.Result, error) {
	res, err := simulate.Run(loc, req)
	if e, ok := errors.AsType[*simulate.InputError](err); ok {
		p := newProblem(kindInvalidSimulation, fmt.Sprintf("The simulation cannot run: %s: %s.", e.Field, e.Message), err)
		p.InvalidFields = []gen.InvalidField{{Field: e.Field, Location: gen.InvalidFieldLocationBody, Reason: e.Message}}
		return nil, p
	}
	if e, ok := errors.AsType[*simulate.LimitError](err); ok {
		return nil, newProblem(kindLimitExceeded, "The "+e.Error()+".", err)
	}
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return res, nil
}

// newSimulation is the stored form of a simulation: the request and result as the engine writes
// them, and the summary the list shows.
func newSimulation(locationID string, req simulate.Request, res *simulate.Result) (store.NewSimulation, error) {
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return store.NewSimulation{}, fmt.Errorf("encode simulation request: %w", err)
	}
	resJSON, err := json.Marshal(res)
	if err != nil {
		return store.NewSimulation{}, fmt.Errorf("encode simulation result: %w", err)
	}
	maxSeverity := 0
	for _, f := range res.Findings {
		maxSeverity = max(maxSeverity, analyzer.SeverityRank(f.Severity))
	}
	return store.NewSimulation{
		LocationID: locationID, ContactID: req.Contact.ID, Start: res.Start, End: res.End,
		Messages: len(res.Messages), Findings: len(res.Findings), WorkflowsEntered: res.Stats.WorkflowsEntered,
		MaxSeverity: maxSeverity, Request: reqJSON, Result: resJSON,
	}, nil
}

// toSimulation converts a stored simulation; its request and result are read back into the API's
// types.
func toSimulation(s store.Simulation) (gen.Simulation, error) {
	req, err := convertJSON[gen.SimulationRequest](s.Request)
	if err != nil {
		return gen.Simulation{}, fmt.Errorf("decode stored simulation %s: %w", s.ID, err)
	}
	res, err := convertJSON[gen.SimulationResult](s.Result)
	if err != nil {
		return gen.Simulation{}, fmt.Errorf("decode stored simulation %s: %w", s.ID, err)
	}
	return gen.Simulation{Id: s.ID, LocationId: s.LocationID, CreatedAt: s.CreatedAt, Request: req, Result: res}, nil
}

// toSimulationSummary converts a stored simulation without its request and result.
func toSimulationSummary(s store.SimulationSummary) gen.SimulationSummary {
	return gen.SimulationSummary{
		Id: s.ID, LocationId: s.LocationID, ContactId: s.ContactID, Start: s.Start, End: s.End,
		Messages: int32(s.Messages), Findings: int32(s.Findings), WorkflowsEntered: int32(s.WorkflowsEntered),
		MaxSeverity: severityNames[min(max(s.MaxSeverity, 0), len(severityNames)-1)], CreatedAt: s.CreatedAt,
	}
}

// convertJSON converts between the API's generated types and the engine's, which share their JSON
// form (the spec was written from the engine's types). v is JSON bytes or a value to encode.
func convertJSON[T any](v any) (T, error) {
	var out T
	data, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return out, fmt.Errorf("encode %T: %w", v, err)
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("decode %T: %w", out, err)
	}
	return out, nil
}
