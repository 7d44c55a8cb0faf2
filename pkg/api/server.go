// Package api serves ghl-debugger's HTTP API. openapi.yaml is the contract: package gen, generated
// from it, holds the types, the strict Echo server interface and the embedded spec; this package
// implements that interface (Server) and builds the Echo instance around it (NewHandler), with
// the middleware that authenticates callers and validates requests against the spec, and the one
// error handler that renders every error as an RFC 9457 problem document.
package api

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// Store is the storage the API needs. *store.DB implements it; its methods return the errors
// store documents (ErrNotFound, ErrConflict, ErrInvalidCursor), which the error table maps to
// statuses.
type Store interface {
	Engine() string
	Ping(ctx context.Context) error
	Stats() sql.DBStats
	ReaderStats() (sql.DBStats, bool)
	CountAccountsByTier(ctx context.Context) (map[store.Tier]int, error)
	UpdateAccount(ctx context.Context, id string, u store.AccountUpdate) (store.Account, error)
	APIKeyHashes(ctx context.Context, accountID string) ([]string, error)
	AuthenticateAPIKey(ctx context.Context, hash string) (store.Account, store.APIKey, error)
	CreateAPIKey(ctx context.Context, accountID, name, hash, prefix string) (store.APIKey, error)
	ListAPIKeys(ctx context.Context, accountID string) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, accountID, keyID string) (store.APIKey, error)
	CreateLocation(ctx context.Context, accountID string, in store.NewLocation) (store.Location, error)
	GetLocation(ctx context.Context, accountID, id string) (store.Location, error)
	ListLocations(ctx context.Context, accountID string, p store.Page) ([]store.Location, string, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	DeleteLocation(ctx context.Context, accountID, id string) error
	WorkflowStore
	AnalysisStore
	SimulationStore
	GHLStore
}

var (
	_ Store                     = (*store.DB)(nil)
	_ gen.StrictServerInterface = (*Server)(nil)
)

// healthPingTimeout bounds the database ping of the detailed health check, so a hung database
// makes the check answer 503 (in about this time: PostgreSQL gets a quarter of a second more to
// answer the ping's cancellation) instead of hanging the probe. A database that takes longer to
// answer a ping than this is in no state to serve requests.
const healthPingTimeout = time.Second

// defaultTimezone is a new location's time zone when the caller names none.
const defaultTimezone = "UTC"

// Server implements the API's operations (gen.StrictServerInterface). Each handler converts the
// request, calls the store and converts the result; errors go to the error handler as they are.
type Server struct {
	store        Store
	version      string
	started      time.Time
	maxBodyBytes int64
	// documentLimits bound the workflow documents that imports and analyses read; zero fields
	// take the importer's defaults.
	documentLimits importer.Options
	// limiter counts each account's requests and analyses; NewHandler always sets it.
	limiter RateLimiter
	// upgradeURL is shown to free accounts over a rate limit.
	upgradeURL string
	// compute bounds the imports and analyses that run at once; NewHandler always sets it.
	compute *computeLimiter
	// analysisTimeout is the deadline of one analysis.
	analysisTimeout time.Duration
	// cache holds what the reads need again: NewHandler always sets it.
	cache *cache.Cache
	// gzipMinBytes is the smallest body sent gzipped; the handlers that serve pre-compressed
	// bodies follow it as the compression middleware does.
	gzipMinBytes int
	// jobs is the background job queue, nil when there is none (every analysis then runs in its
	// request); asyncWorkflows and asyncSteps are the sizes above which a location is analysed in
	// the background (see jobs.go).
	jobs                       JobQueue
	asyncWorkflows, asyncSteps int
	// ghl connects locations to GHL; nil when the handler has none (every GHL route that needs it
	// then answers 501).
	ghl GHLService
	// logger receives what the handlers note without failing the request.
	logger *slog.Logger
}

// NewServer returns the operations over st. version is reported by the detailed health check and
// maxBodyBytes by GET /v1/me.
func NewServer(st Store, version string, maxBodyBytes int64) *Server {
	return &Server{store: st, version: version, started: time.Now(), maxBodyBytes: maxBodyBytes,
		logger: slog.New(slog.DiscardHandler)}
}

// GetHealth answers while the process serves.
func (s *Server) GetHealth(context.Context, gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	return gen.GetHealth200JSONResponse{Status: gen.HealthStatusOk}, nil
}

// GetHealthDetailed pings the database and reports it with the process's memory and version and
// the rate limiter's state. Only the database decides the status: without Redis the limiter counts
// in memory and the service keeps serving.
func (s *Server) GetHealthDetailed(ctx context.Context, _ gen.GetHealthDetailedRequestObject) (gen.GetHealthDetailedResponseObject, error) {
	pingCtx, cancel := context.WithTimeout(ctx, healthPingTimeout)
	defer cancel()
	start := time.Now()
	pingErr := s.store.Ping(pingCtx)
	latency := time.Since(start)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	body := gen.HealthDetailed{
		Status:        gen.HealthDetailedStatusOk,
		Version:       s.version,
		UptimeSeconds: time.Since(s.started).Seconds(),
		Database: gen.DatabaseHealth{
			Engine:          gen.DatabaseHealthEngine(s.store.Engine()),
			Reachable:       pingErr == nil,
			LatencyMs:       float64(latency.Microseconds()) / 1000,
			OpenConnections: int32(s.store.Stats().OpenConnections),
		},
		Memory: gen.MemoryStats{
			HeapAllocBytes: int64(mem.HeapAlloc),
			SysBytes:       int64(mem.Sys),
			Goroutines:     int32(runtime.NumGoroutine()),
		},
		RateLimiter: toRateLimiterHealth(s.limiter.Status(ctx)),
	}
	// A cache whose Redis is away is degraded, never the service down: L1 and the database answer.
	ch := s.cache.Health(ctx)
	cacheHealth := toCacheL2(ch.State, ch.Breaker)
	body.Cache = &cacheHealth
	if pingErr == nil {
		body.Queue = s.queueHealth(pingCtx)
	}
	if pingErr != nil {
		body.Status = gen.HealthDetailedStatusUnavailable
		return gen.GetHealthDetailed503JSONResponse{Body: body, Headers: gen.GetHealthDetailed503ResponseHeaders{RetryAfter: databaseRetryAfter}}, nil
	}
	return gen.GetHealthDetailed200JSONResponse(body), nil
}

// GetMe describes the calling account, the limits in force for it (its tier's, or its own) and
// its usage.
func (s *Server) GetMe(ctx context.Context, _ gen.GetMeRequestObject) (gen.GetMeResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in, err := limitsInForce(p.Account)
	if err != nil {
		return nil, err
	}
	usage, err := s.usage(ctx, p.Account.ID, in)
	if err != nil {
		return nil, err
	}
	return gen.GetMe200JSONResponse{Body: gen.Me{
		Account: toAccount(p.Account),
		Limits: gen.Limits{
			RequestsPerMinute:     perWindow(in.RequestsPerMinute),
			AnalysesPerHour:       perWindow(in.AnalysesPerHour),
			InForce:               toLimitsInForce(in),
			MaxBodyBytes:          s.maxBodyBytes,
			MaxWorkflowsPerImport: int32(cmp.Or(s.documentLimits.MaxWorkflows, importer.DefaultMaxWorkflows)),
			MaxStepsPerWorkflow:   int32(cmp.Or(s.documentLimits.MaxStepsPerWorkflow, importer.DefaultMaxStepsPerWorkflow)),
			MaxContextObjects:     int32(cmp.Or(s.documentLimits.MaxContextObjects, importer.DefaultMaxContextObjects)),
		},
		Usage: usage,
	}}, nil
}

// usage counts the account's active keys and its locations, and reads what the current windows of
// its rate limits (in force: in) have counted without counting anything. The store has no count of
// locations, so it walks the pages at the largest size: one query per 200 locations.
func (s *Server) usage(ctx context.Context, accountID string, in tier.InForce) (gen.Usage, error) {
	policy := policyOf(in)
	requests, err := s.limiter.Peek(ctx, accountID, policy, ratelimit.Requests)
	if err != nil {
		return gen.Usage{}, fmt.Errorf("read requests budget: %w", err)
	}
	analyses, err := s.limiter.Peek(ctx, accountID, policy, ratelimit.Analyses)
	if err != nil {
		return gen.Usage{}, fmt.Errorf("read analyses budget: %w", err)
	}
	keys, err := s.store.ListAPIKeys(ctx, accountID)
	if err != nil {
		return gen.Usage{}, fmt.Errorf("list API keys: %w", err)
	}
	u := gen.Usage{RequestsThisMinute: int32(requests.Used), AnalysesThisHour: int32(analyses.Used)}
	for _, k := range keys {
		if k.RevokedAt == nil {
			u.ActiveApiKeys++
		}
	}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		locs, next, err := s.store.ListLocations(ctx, accountID, page)
		if err != nil {
			return gen.Usage{}, fmt.Errorf("count locations: %w", err)
		}
		u.Locations += int32(len(locs))
		if next == "" {
			return u, nil
		}
		page.Cursor = next
	}
}

// ListApiKeys lists the caller's keys, all or only those in the requested state, without secrets.
func (s *Server) ListApiKeys(ctx context.Context, req gen.ListApiKeysRequestObject) (gen.ListApiKeysResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListAPIKeys(ctx, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	if state := req.Params.State; state != nil && *state != gen.ListApiKeysParamsStateAll {
		revoked := *state == gen.ListApiKeysParamsStateRevoked
		keys = slices.DeleteFunc(keys, func(k store.APIKey) bool { return (k.RevokedAt != nil) != revoked })
	}
	return gen.ListApiKeys200JSONResponse{Body: gen.APIKeyList{Items: mapSlice(keys, toAPIKey)}}, nil
}

// CreateApiKey makes a key for the caller and returns its secret, this once.
func (s *Server) CreateApiKey(ctx context.Context, req gen.CreateApiKeyRequestObject) (gen.CreateApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	key, err := apikey.New()
	if err != nil {
		return nil, fmt.Errorf("make API key: %w", err)
	}
	k, err := s.store.CreateAPIKey(ctx, p.Account.ID, req.Body.Name, key.Hash, key.Display)
	if err != nil {
		return nil, fmt.Errorf("create API key: %w", err)
	}
	out := toAPIKey(k)
	return gen.CreateApiKey201JSONResponse{Body: gen.CreatedAPIKey{
		Id: out.Id, Name: out.Name, Prefix: out.Prefix, CreatedAt: out.CreatedAt,
		LastUsedAt: out.LastUsedAt, RevokedAt: out.RevokedAt, Key: key.Secret,
	}}, nil
}

// RevokeApiKey revokes one of the caller's keys.
func (s *Server) RevokeApiKey(ctx context.Context, req gen.RevokeApiKeyRequestObject) (gen.RevokeApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.store.RevokeAPIKey(ctx, p.Account.ID, req.KeyId)
	if err != nil {
		return nil, fmt.Errorf("revoke API key %s: %w", req.KeyId, err)
	}
	return gen.RevokeApiKey200JSONResponse{Body: toAPIKey(k)}, nil
}

// ListLocations returns one page of the caller's locations.
func (s *Server) ListLocations(ctx context.Context, req gen.ListLocationsRequestObject) (gen.ListLocationsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	page := store.Page{Limit: store.DefaultPageLimit}
	if req.Params.Limit != nil {
		page.Limit = int(*req.Params.Limit)
	}
	if req.Params.Cursor != nil {
		page.Cursor = *req.Params.Cursor
	}
	locs, next, err := s.store.ListLocations(ctx, p.Account.ID, page)
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	ids := make([]string, len(locs))
	for i, l := range locs {
		ids[i] = l.ID
	}
	// One query shows the whole page's connections.
	conns, err := s.store.GHLConnectionsOf(ctx, p.Account.ID, ids)
	if err != nil {
		return nil, fmt.Errorf("list locations' GHL connections: %w", err)
	}
	out := gen.LocationList{Items: mapSlice(locs, func(l store.Location) gen.Location {
		if c, ok := conns[l.ID]; ok {
			return toLocation(l, &c)
		}
		return toLocation(l, nil)
	})}
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListLocations200JSONResponse{Body: out}, nil
}

// CreateLocation adds a location to the caller's account.
func (s *Server) CreateLocation(ctx context.Context, req gen.CreateLocationRequestObject) (gen.CreateLocationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	in, err := toNewLocation(req.Body)
	if err != nil {
		return nil, err
	}
	loc, err := s.store.CreateLocation(ctx, p.Account.ID, in)
	if err != nil {
		return nil, fmt.Errorf("create location: %w", err)
	}
	return gen.CreateLocation201JSONResponse{
		Body:    toLocation(loc, nil),
		Headers: gen.CreateLocation201ResponseHeaders{Location: "/v1/locations/" + loc.ID},
	}, nil
}

// GetLocation returns one of the caller's locations.
func (s *Server) GetLocation(ctx context.Context, req gen.GetLocationRequestObject) (gen.GetLocationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := s.store.GetLocation(ctx, p.Account.ID, req.LocationId)
	if err != nil {
		return nil, fmt.Errorf("get location %s: %w", req.LocationId, err)
	}
	conn, err := s.store.GetGHLConnection(ctx, p.Account.ID, loc.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return gen.GetLocation200JSONResponse{Body: toLocation(loc, nil)}, nil
	case err != nil:
		return nil, fmt.Errorf("get GHL connection of %s: %w", loc.ID, err)
	}
	return gen.GetLocation200JSONResponse{Body: toLocation(loc, &conn)}, nil
}

// DeleteLocation deletes one of the caller's locations.
func (s *Server) DeleteLocation(ctx context.Context, req gen.DeleteLocationRequestObject) (gen.DeleteLocationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteLocation(ctx, p.Account.ID, req.LocationId); err != nil {
		return nil, fmt.Errorf("delete location %s: %w", req.LocationId, err)
	}
	return gen.DeleteLocation204Response{}, nil
}

// toNewLocation converts a validated request body. The spec cannot say which time zone names
// exist, so that check happens here, against the IANA database built into the binary.
func toNewLocation(body *gen.NewLocation) (store.NewLocation, error) {
	if body == nil {
		return store.NewLocation{}, errors.New("create location: no request body after validation")
	}
	tz := defaultTimezone
	if body.Timezone != nil {
		tz = *body.Timezone
	}
	// "Local" is the server's own zone, not a name a caller can mean.
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return store.NewLocation{}, invalidField("timezone", gen.InvalidFieldLocationBody, "is not an IANA time zone name")
	}
	return store.NewLocation{GHLLocationID: body.GhlLocationId, Name: body.Name, Timezone: tz}, nil
}

func toAccount(a store.Account) gen.Account {
	return gen.Account{Id: a.ID, Name: a.Name, Tier: gen.Tier(a.Tier), IsAdmin: a.IsAdmin, CreatedAt: a.CreatedAt}
}

func toAPIKey(k store.APIKey) gen.APIKey {
	return gen.APIKey{Id: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

// toLocation converts a location with its GHL connection (nil: not connected).
func toLocation(l store.Location, c *store.GHLConnection) gen.Location {
	return gen.Location{
		Id: l.ID, GhlLocationId: l.GHLLocationID, Name: l.Name, Timezone: l.Timezone,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Ghl: toGHLConnection(c),
	}
}

// mapSlice converts every element; it returns an empty, not nil, slice so lists encode as [].
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
