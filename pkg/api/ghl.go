package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// GHLStore is what the API reads of the GHL connection: the connections, for the location views,
// and what the syncs recorded. *store.DB implements it; its methods return ErrNotFound for another
// account's location or workflow, exactly as for a missing one (GetGHLConnection also for a location
// that is not connected), and ErrInvalidCursor for a cursor the store did not issue.
type GHLStore interface {
	GetGHLConnection(ctx context.Context, accountID, locationID string) (store.GHLConnection, error)
	GHLConnectionsOf(ctx context.Context, accountID string, locationIDs []string) (map[string]store.GHLConnection, error)
	ListGHLWorkflows(ctx context.Context, accountID, locationID string, p store.Page) ([]store.GHLWorkflow, string, error)
	GHLWorkflowsOf(ctx context.Context, accountID, locationID string, ghlIDs []string) (map[string]store.GHLWorkflow, error)
	ListGHLWorkflowVersions(ctx context.Context, accountID, locationID, workflowID string, p store.Page) (store.GHLVersionHistory, string, error)
}

// GHLService connects locations to GHL; *ghl.Service implements it. Its errors are pkg/ghl's (see
// ghlProblem for the problems they become) and the store's.
type GHLService interface {
	StartOAuth(ctx context.Context, accountID, locationID string) (string, time.Time, error)
	CompleteOAuth(ctx context.Context, code, state string) (store.GHLConnection, error)
	ConnectPIT(ctx context.Context, accountID, locationID string, token ghl.Secret) (store.GHLConnection, error)
	Disconnect(ctx context.Context, accountID, locationID string) error
	// CheckSync returns a *ghl.NotConfiguredError when the deployment lacks what a sync needs.
	CheckSync() error
}

var (
	_ GHLStore   = (*store.DB)(nil)
	_ GHLService = (*ghl.Service)(nil)
)

// ghlService returns the GHL service, or the not-configured error of a handler built without one
// (no GHL settings and no store to build an unconfigured service on).
func (s *Server) ghlService() (GHLService, error) {
	if s.ghl == nil {
		return nil, &ghl.NotConfiguredError{Missing: ghl.Config{}.Missing()}
	}
	return s.ghl, nil
}

// ownLocation checks that the location is the caller's before anything else happens, so that
// another account's location is a 404 on every GHL route, whatever the deployment's settings.
func (s *Server) ownLocation(ctx context.Context, op, locationID string) (store.Account, error) {
	p, err := principal(ctx)
	if err != nil {
		return store.Account{}, err
	}
	if _, err := s.store.GetLocation(ctx, p.Account.ID, locationID); err != nil {
		return store.Account{}, fmt.Errorf("%s %s: %w", op, locationID, err)
	}
	return p.Account, nil
}

// ConnectGhl starts the OAuth flow for one of the caller's locations: GHL's choose-location URL,
// with a signed single-use state.
func (s *Server) ConnectGhl(ctx context.Context, req gen.ConnectGhlRequestObject) (gen.ConnectGhlResponseObject, error) {
	acc, err := s.ownLocation(ctx, "connect GHL", req.LocationId)
	if err != nil {
		return nil, err
	}
	svc, err := s.ghlService()
	if err != nil {
		return nil, err
	}
	url, expires, err := svc.StartOAuth(ctx, acc.ID, req.LocationId)
	if err != nil {
		return nil, err
	}
	return gen.ConnectGhl200JSONResponse{Body: gen.GHLAuthorization{AuthorizationUrl: url, ExpiresAt: expires}}, nil
}

// GhlOAuthCallback is GHL's redirect after the choose-location page: it completes the connection
// named by the state and queues the location's first sync.
func (s *Server) GhlOAuthCallback(ctx context.Context, req gen.GhlOAuthCallbackRequestObject) (gen.GhlOAuthCallbackResponseObject, error) {
	if req.Params.Error != nil {
		return nil, ghlAuthorizationDenied(*req.Params.Error)
	}
	if req.Params.Code == nil {
		return nil, invalidField("code", gen.InvalidFieldLocationQuery, "is required when error is absent")
	}
	svc, err := s.ghlService()
	if err != nil {
		return nil, err
	}
	conn, err := svc.CompleteOAuth(ctx, *req.Params.Code, req.Params.State)
	if err != nil {
		return nil, err
	}
	s.queueFirstSync(ctx, conn)
	return gen.GhlOAuthCallback200JSONResponse{
		LocationId: conn.LocationID, GhlLocationId: conn.GHLLocationID, Ghl: toGHLConnection(&conn),
	}, nil
}

// queueFirstSync queues a sync of a location just connected. The connection is stored already, so
// a queue that fails is logged and left to the periodic sync rather than failing the answer.
func (s *Server) queueFirstSync(ctx context.Context, conn store.GHLConnection) {
	if s.jobs == nil {
		return
	}
	if _, err := s.jobs.EnqueueGHLSync(ctx, jobs.GHLSyncArgs{AccountID: conn.AccountID, LocationID: conn.LocationID, Fresh: true}); err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "queue first GHL sync", slog.String("location_id", conn.LocationID),
			slog.String("error", err.Error()))
	}
}

// PutGhlPrivateToken connects one of the caller's locations with a Private Integration Token, which
// GHL must accept on the location's workflow list first; that list is recorded as the first sync.
func (s *Server) PutGhlPrivateToken(ctx context.Context, req gen.PutGhlPrivateTokenRequestObject) (gen.PutGhlPrivateTokenResponseObject, error) {
	acc, err := s.ownLocation(ctx, "connect GHL token to", req.LocationId)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("connect GHL token: no request body after validation")
	}
	svc, err := s.ghlService()
	if err != nil {
		return nil, err
	}
	conn, err := svc.ConnectPIT(ctx, acc.ID, req.LocationId, ghl.NewSecret(req.Body.PrivateIntegrationToken))
	if err != nil {
		return nil, err
	}
	return gen.PutGhlPrivateToken200JSONResponse{Body: toGHLConnection(&conn)}, nil
}

// DisconnectGhl deletes the location's connection and its tokens; it needs no GHL settings.
func (s *Server) DisconnectGhl(ctx context.Context, req gen.DisconnectGhlRequestObject) (gen.DisconnectGhlResponseObject, error) {
	acc, err := s.ownLocation(ctx, "disconnect GHL of", req.LocationId)
	if err != nil {
		return nil, err
	}
	svc, err := s.ghlService()
	if err != nil {
		return nil, err
	}
	if err := svc.Disconnect(ctx, acc.ID, req.LocationId); err != nil {
		return nil, err
	}
	return gen.DisconnectGhl204Response{}, nil
}

// SyncGhl queues a sync of a connected location and answers the job; a sync already waiting or
// running for the location is the answer instead.
func (s *Server) SyncGhl(ctx context.Context, req gen.SyncGhlRequestObject) (gen.SyncGhlResponseObject, error) {
	acc, err := s.ownLocation(ctx, "sync GHL of", req.LocationId)
	if err != nil {
		return nil, err
	}
	conn, err := s.store.GetGHLConnection(ctx, acc.ID, req.LocationId)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, newProblem(kindGHLNotConnected, "The location is not connected to GHL; connect it first.", err)
	case err != nil:
		return nil, fmt.Errorf("sync GHL of %s: %w", req.LocationId, err)
	case conn.State == store.GHLBroken:
		return nil, newProblem(kindGHLNotConnected,
			"The location's GHL connection is broken (its ghl.brokenReason says why); connect it again.", nil)
	}
	svc, err := s.ghlService()
	if err != nil {
		return nil, err
	}
	if err := svc.CheckSync(); err != nil {
		return nil, err
	}
	if s.jobs == nil {
		return nil, newProblem(kindNotImplemented, "This deployment runs no background jobs, so it cannot queue a sync.", nil)
	}
	j, err := s.jobs.EnqueueGHLSync(ctx, jobs.GHLSyncArgs{AccountID: acc.ID, LocationID: req.LocationId, Fresh: true})
	if err != nil {
		return nil, err
	}
	return gen.SyncGhl202JSONResponse{Body: toJob(j), Headers: gen.SyncGhl202ResponseHeaders{Location: "/v1/jobs/" + j.ID}}, nil
}

// ListGhlWorkflows returns one page of GHL's workflow list of a location, as the syncs recorded it.
func (s *Server) ListGhlWorkflows(ctx context.Context, req gen.ListGhlWorkflowsRequestObject) (gen.ListGhlWorkflowsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListGHLWorkflows(ctx, p.Account.ID, req.LocationId, toPage(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, fmt.Errorf("list GHL workflows of %s: %w", req.LocationId, err)
	}
	out := gen.GHLWorkflowList{Items: mapSlice(items, toGHLWorkflow)}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListGhlWorkflows200JSONResponse{Body: out}, nil
}

// ListGhlWorkflowVersions returns one page of a stored workflow's drift history.
func (s *Server) ListGhlWorkflowVersions(ctx context.Context, req gen.ListGhlWorkflowVersionsRequestObject) (gen.ListGhlWorkflowVersionsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	h, next, err := s.store.ListGHLWorkflowVersions(ctx, p.Account.ID, req.LocationId, req.WorkflowId, toPage(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, fmt.Errorf("list GHL versions of %s: %w", req.WorkflowId, err)
	}
	out := gen.GHLVersionList{
		WorkflowId: h.WorkflowID, GhlWorkflowId: h.GHLWorkflowID, ImportedVersion: int32(h.ImportedVersion), Stale: h.Stale,
		Items: mapSlice(h.Versions, func(v store.GHLVersion) gen.GHLVersionEntry {
			return gen.GHLVersionEntry{Version: int32(v.Version), SeenAt: v.SeenAt}
		}),
	}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListGhlWorkflowVersions200JSONResponse{Body: out}, nil
}

// toGHLConnection converts a location's connection; nil is a location that is not connected. The
// tokens never leave the store.
func toGHLConnection(c *store.GHLConnection) gen.GHLConnection {
	if c == nil {
		return gen.GHLConnection{State: gen.GHLConnectionStateNotConnected}
	}
	kind := gen.GHLConnectionKind(c.Kind)
	connected := c.ConnectedAt
	out := gen.GHLConnection{State: gen.GHLConnectionState(c.State), Kind: &kind, ConnectedAt: &connected}
	if c.State == store.GHLBroken {
		reason := c.BrokenReason
		out.BrokenReason = &reason
	}
	if r := c.LastSync; r != nil {
		out.LastSync = &gen.GHLSyncResult{
			At: r.At, Ok: r.OK, Workflows: int32(r.Workflows), Stale: int32(r.Stale),
			NotImported: int32(r.NotImported), Deleted: int32(r.Deleted), Detail: nonEmpty(r.Detail),
		}
	}
	return out
}

// toGHLWorkflow converts one workflow of GHL's list as the syncs recorded it.
func toGHLWorkflow(g store.GHLWorkflow) gen.GHLWorkflow {
	out := gen.GHLWorkflow{
		GhlWorkflowId: g.GHLWorkflowID, Name: g.Name, Status: g.Status, GhlVersion: int32(g.Version),
		Imported: g.WorkflowID != "", WorkflowId: nonEmpty(g.WorkflowID), Stale: g.Stale,
		FirstSeenAt: g.FirstSeenAt, LastSeenAt: g.LastSeenAt, DeletedAt: g.DeletedAt,
	}
	if g.ImportedVersion != nil {
		v := int32(*g.ImportedVersion)
		out.ImportedVersion = &v
	}
	return out
}

// withGHL adds to a stored workflow's view what the syncs recorded of it in GHL: GHL's version
// (the imported one when no sync listed it), whether GHL moved past the import, and when GHL
// stopped listing it.
func withGHL(w gen.Workflow, g store.GHLWorkflow, listed bool) gen.Workflow {
	w.ImportedVersion = w.GhlVersion
	if listed {
		w.GhlVersion = int32(g.Version)
		w.Stale = g.Stale
		w.GhlDeletedAt = g.DeletedAt
	}
	return w
}

// ghlOfWorkflows reads what the syncs recorded of the given stored workflows, by GHL id, in one
// query.
func (s *Server) ghlOfWorkflows(ctx context.Context, accountID, locationID string, wfs []store.Workflow) (map[string]store.GHLWorkflow, error) {
	if len(wfs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(wfs))
	for i, w := range wfs {
		ids[i] = w.GHLWorkflowID
	}
	byID, err := s.store.GHLWorkflowsOf(ctx, accountID, locationID, ids)
	if err != nil {
		return nil, fmt.Errorf("read GHL versions of %s: %w", locationID, err)
	}
	return byID, nil
}
