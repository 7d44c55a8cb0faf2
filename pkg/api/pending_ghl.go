package api

// Placeholders while the ghl handlers are being written; the file is deleted when they land.

import (
	"context"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// DisconnectGhl is not served yet.
func (s *Server) DisconnectGhl(context.Context, gen.DisconnectGhlRequestObject) (gen.DisconnectGhlResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// PutGhlPrivateToken is not served yet.
func (s *Server) PutGhlPrivateToken(context.Context, gen.PutGhlPrivateTokenRequestObject) (gen.PutGhlPrivateTokenResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// ConnectGhl is not served yet.
func (s *Server) ConnectGhl(context.Context, gen.ConnectGhlRequestObject) (gen.ConnectGhlResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// SyncGhl is not served yet.
func (s *Server) SyncGhl(context.Context, gen.SyncGhlRequestObject) (gen.SyncGhlResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// ListGhlWorkflows is not served yet.
func (s *Server) ListGhlWorkflows(context.Context, gen.ListGhlWorkflowsRequestObject) (gen.ListGhlWorkflowsResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// ListGhlWorkflowVersions is not served yet.
func (s *Server) ListGhlWorkflowVersions(context.Context, gen.ListGhlWorkflowVersionsRequestObject) (gen.ListGhlWorkflowVersionsResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}

// GhlOAuthCallback is not served yet.
func (s *Server) GhlOAuthCallback(context.Context, gen.GhlOAuthCallbackRequestObject) (gen.GhlOAuthCallbackResponseObject, error) {
	return nil, newProblem(kindNotImplemented, "", nil)
}
