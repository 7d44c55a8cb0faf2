package ghl

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// Errors of the Service, wrapped with the operation (test them with errors.Is). Errors of the
// client (ErrTokenRejected, ErrGrantRejected, ErrUnavailable, ErrRateLimited) and of the state
// (ErrStateInvalid, ErrStateExpired, ErrStateUsed) pass through, as do the store's ErrNotFound and
// ErrUnavailable.
var (
	// ErrNotConfigured means the deployment lacks settings the operation needs; the error is a
	// *NotConfiguredError that names them.
	ErrNotConfigured = errors.New("GHL is not configured")
	// ErrNotConnected means the location has no connection, or its connection is broken.
	ErrNotConnected = errors.New("the location is not connected to GHL")
	// ErrLocationMismatch means GHL authorized another sub-account than the location's; the error
	// is a *LocationMismatchError.
	ErrLocationMismatch = errors.New("GHL authorized another location")
)

// NotConfiguredError names the settings an operation needs and the deployment lacks.
type NotConfiguredError struct {
	// Missing are environment variables, such as GHLD_GHL_CLIENT_ID.
	Missing []string
}

// Error names the missing settings.
func (e *NotConfiguredError) Error() string {
	return "GHL is not configured: set " + strings.Join(e.Missing, ", ")
}

// Is makes errors.Is(err, ErrNotConfigured) true.
func (e *NotConfiguredError) Is(target error) bool { return target == ErrNotConfigured }

// LocationMismatchError is a token for another GHL location than the one connected.
type LocationMismatchError struct {
	// Authorized is the GHL location the token is for ("" for an agency token); Want is the
	// location's own GHL id.
	Authorized string
	Want       string
}

// Error names both GHL locations (ids, not secrets).
func (e *LocationMismatchError) Error() string {
	if e.Authorized == "" {
		return fmt.Sprintf("GHL authorized an agency, not sub-account %s", e.Want)
	}
	return fmt.Sprintf("GHL authorized sub-account %s, but this location is %s", e.Authorized, e.Want)
}

// Is makes errors.Is(err, ErrLocationMismatch) true.
func (e *LocationMismatchError) Is(target error) bool { return target == ErrLocationMismatch }

// Store is what the Service needs of the database; *store.DB implements it. The methods return the
// store's errors (see package store).
type Store interface {
	GetLocation(ctx context.Context, accountID, id string) (store.Location, error)
	CreateGHLOAuthState(ctx context.Context, st store.GHLOAuthState) error
	ConsumeGHLOAuthState(ctx context.Context, nonce string, now time.Time) (store.GHLOAuthState, error)
	PutGHLConnection(ctx context.Context, accountID, locationID string, in store.NewGHLConnection) (store.GHLConnection, error)
	GetGHLConnection(ctx context.Context, accountID, locationID string) (store.GHLConnection, error)
	DeleteGHLConnection(ctx context.Context, accountID, locationID string) error
	LeaseGHLRefresh(ctx context.Context, accountID, locationID, owner string, until time.Time) (store.GHLConnection, error)
	StoreGHLRefresh(ctx context.Context, accountID, locationID, owner string, tok store.GHLTokens) error
	ReleaseGHLLease(ctx context.Context, locationID, owner string) error
	MarkGHLBroken(ctx context.Context, accountID, locationID, reason string) error
	RecordGHLSync(ctx context.Context, accountID, locationID string, r store.GHLSyncResult) error
	ApplyGHLWorkflowList(ctx context.Context, accountID, locationID string, list []store.GHLWorkflowSeen, seenAt time.Time) (store.GHLApplyResult, error)
	GHLCiphertextsNotUnder(ctx context.Context, keyID string) ([]store.GHLCiphertexts, error)
	ReplaceGHLCiphertexts(ctx context.Context, old, updated store.GHLCiphertexts) (bool, error)
}

var _ Store = (*store.DB)(nil)

// Defaults of ServiceConfig.
const (
	// DefaultRefreshMargin: an access token that expires within it is refreshed before use, so
	// that a call never starts with a token about to expire. GHL's live a day.
	DefaultRefreshMargin = 10 * time.Minute
	// DefaultLeaseTTL bounds how long one instance holds a location's refresh: longer than a
	// refresh can take with its retries, short enough that a crashed holder delays the next
	// refresh only that long.
	DefaultLeaseTTL = time.Minute
	// DefaultLeaseWait is how long a caller waits for another instance's refresh of the same
	// location before giving up for now.
	DefaultLeaseWait = 15 * time.Second
)

// ServiceConfig configures NewService.
type ServiceConfig struct {
	GHL    Config
	Client *Client
	Store  Store
	// Cache, when set, holds each location's GHL workflow list (cache.KindGHLWorkflows) and is
	// invalidated when a sync changes what the location's views show; nil reads GHL every time.
	Cache *cache.Cache
	// Logger receives refreshes, broken connections and failed syncs (ids and reasons, never a
	// token); nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshMargin, LeaseTTL and LeaseWait: zero means the defaults.
	RefreshMargin time.Duration
	LeaseTTL      time.Duration
	LeaseWait     time.Duration
}

// Service connects locations to GHL and syncs them. It is safe for concurrent use, and several
// instances may run it on one database.
type Service struct {
	ghl           Config
	client        *Client
	store         Store
	cache         *cache.Cache
	logger        *slog.Logger
	now           func() time.Time
	refreshMargin time.Duration
	leaseTTL      time.Duration
	leaseWait     time.Duration
	// owner names this Service in refresh leases.
	owner string
	// afterRefresh, when set (tests only, see export_test.go), runs between GHL's answer to a
	// refresh and the store of the new pair; an error stands for the process dying there.
	afterRefresh func() error
}

// NewService returns a Service configured by cfg. Client may be nil only when the deployment has
// no GHL settings at all (every operation that calls GHL then fails with ErrNotConfigured).
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("ghl: a service needs a store")
	}
	s := &Service{
		ghl:           cfg.GHL,
		client:        cfg.Client,
		store:         cfg.Store,
		cache:         cfg.Cache,
		logger:        cfg.Logger,
		now:           cfg.Now,
		refreshMargin: cmp.Or(cfg.RefreshMargin, DefaultRefreshMargin),
		leaseTTL:      cmp.Or(cfg.LeaseTTL, DefaultLeaseTTL),
		leaseWait:     cmp.Or(cfg.LeaseWait, DefaultLeaseWait),
		owner:         "svc-" + strings.ToLower(rand.Text()[:16]),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// notConfigured returns a *NotConfiguredError for missing, or nil when nothing is missing. A
// client is needed too; without one the OAuth settings are what is missing.
func (s *Service) notConfigured(missing []string) error {
	if len(missing) == 0 && s.client == nil {
		missing = []string{EnvClientID, EnvClientSecret, EnvRedirectURL}
	}
	if len(missing) == 0 {
		return nil
	}
	return &NotConfiguredError{Missing: missing}
}

// CheckSync returns a *NotConfiguredError (ErrNotConfigured) when the deployment lacks what a sync
// needs (the token keys), and nil otherwise, so that a sync is refused before it is queued.
func (s *Service) CheckSync() error { return s.notConfigured(s.ghl.MissingForPIT()) }

// tokenAAD binds a ciphertext to its row and field.
func tokenAAD(locationID, field string) string { return "ghl-token/" + locationID + "/" + field }

// StartOAuth begins connecting the account's location: it records a new single-use state and
// returns GHL's choose-location URL carrying it, and when the state expires. It returns
// ErrNotConfigured and the store's ErrNotFound for a location the account does not have.
func (s *Service) StartOAuth(ctx context.Context, accountID, locationID string) (string, time.Time, error) {
	if err := s.notConfigured(s.ghl.Missing()); err != nil {
		return "", time.Time{}, fmt.Errorf("start GHL authorization: %w", err)
	}
	claims := NewStateClaims(accountID, locationID, s.now())
	st := store.GHLOAuthState{Nonce: claims.Nonce, AccountID: accountID, LocationID: locationID, ExpiresAt: claims.ExpiresAt}
	if err := s.store.CreateGHLOAuthState(ctx, st); err != nil {
		return "", time.Time{}, fmt.Errorf("start GHL authorization: %w", err)
	}
	return s.ghl.AuthorizationURL(s.ghl.TokenKeys.SignState(claims)), claims.ExpiresAt, nil
}

// CompleteOAuth is the callback: it checks the state (signature, expiry, then single use in the
// database), trades the code for tokens, checks that they are a sub-account token of the location's
// own GHL id, and stores the connection with its tokens encrypted. The state is consumed before the
// code is traded, so a replayed callback cannot trade it twice; a failure after that needs a new
// authorization, as the code is single-use at GHL too.
//
// It returns ErrNotConfigured; ErrStateInvalid, ErrStateExpired or ErrStateUsed; the store's
// ErrNotFound when the location was deleted meanwhile; ErrGrantRejected when GHL refused the code;
// ErrUnavailable or ErrRateLimited when GHL did not answer; and a *LocationMismatchError.
func (s *Service) CompleteOAuth(ctx context.Context, code, state string) (store.GHLConnection, error) {
	if err := s.notConfigured(s.ghl.Missing()); err != nil {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	}
	now := s.now()
	claims, err := s.ghl.TokenKeys.VerifyState(state, now)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	}
	st, err := s.store.ConsumeGHLOAuthState(ctx, claims.Nonce, now)
	switch {
	case errors.Is(err, store.ErrConflict):
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", ErrStateUsed)
	case errors.Is(err, store.ErrGHLStateExpired):
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", ErrStateExpired)
	case errors.Is(err, store.ErrNotFound):
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", ErrStateInvalid)
	case err != nil:
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	case st.AccountID != claims.AccountID || st.LocationID != claims.LocationID:
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", ErrStateInvalid)
	}
	loc, err := s.store.GetLocation(ctx, st.AccountID, st.LocationID)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	}
	tok, err := s.client.ExchangeCode(ctx, code)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	}
	if tok.UserType != "Location" || tok.LocationID != loc.GHLLocationID {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w",
			&LocationMismatchError{Authorized: tok.LocationID, Want: loc.GHLLocationID})
	}
	if tok.RefreshToken.Empty() {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w",
			&APIError{Endpoint: endpointToken, Status: 200, Attempts: 1, Kind: ErrUnavailable})
	}
	keys := s.ghl.TokenKeys
	exp := tok.ExpiresAt
	conn, err := s.store.PutGHLConnection(ctx, loc.AccountID, loc.ID, store.NewGHLConnection{
		Kind: store.GHLOAuth, GHLLocationID: loc.GHLLocationID, Scopes: strings.Join(tok.Scopes, " "),
		KeyID: keys.CurrentKeyID(), AccessToken: keys.Encrypt(tok.AccessToken, tokenAAD(loc.ID, "access")),
		RefreshToken: keys.Encrypt(tok.RefreshToken, tokenAAD(loc.ID, "refresh")), AccessExpiresAt: &exp,
	})
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("complete GHL authorization: %w", err)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "GHL connected", slog.String("location_id", loc.ID), slog.String("kind", "oauth"))
	return conn, nil
}

// ConnectPIT connects the account's location with a Private Integration Token, after checking with
// GHL that the token reads the location's workflow list; that list is recorded at once, as a first
// sync. It returns ErrNotConfigured (only the token key is needed), the store's ErrNotFound,
// ErrTokenRejected when GHL refused the token, and ErrUnavailable or ErrRateLimited.
func (s *Service) ConnectPIT(ctx context.Context, accountID, locationID string, token Secret) (store.GHLConnection, error) {
	if err := s.notConfigured(s.ghl.MissingForPIT()); err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	loc, err := s.store.GetLocation(ctx, accountID, locationID)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	list, err := s.client.ListWorkflows(ctx, loc.GHLLocationID, token)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	keys := s.ghl.TokenKeys
	if _, err := s.store.PutGHLConnection(ctx, accountID, locationID, store.NewGHLConnection{
		Kind: store.GHLPIT, GHLLocationID: loc.GHLLocationID, KeyID: keys.CurrentKeyID(),
		AccessToken: keys.Encrypt(token, tokenAAD(loc.ID, "access")),
	}); err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "GHL connected", slog.String("location_id", loc.ID), slog.String("kind", "pit"))
	if _, err := s.apply(ctx, accountID, locationID, list); err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	conn, err := s.store.GetGHLConnection(ctx, accountID, locationID)
	if err != nil {
		return store.GHLConnection{}, fmt.Errorf("connect GHL token: %w", err)
	}
	return conn, nil
}

// Disconnect deletes the account's location's connection, its tokens and what its syncs recorded.
// It needs no GHL settings. It returns the store's ErrNotFound when the location is not connected.
func (s *Service) Disconnect(ctx context.Context, accountID, locationID string) error {
	if err := s.store.DeleteGHLConnection(ctx, accountID, locationID); err != nil {
		return fmt.Errorf("disconnect GHL: %w", err)
	}
	s.invalidate(ctx, accountID, locationID, true)
	s.logger.LogAttrs(ctx, slog.LevelInfo, "GHL disconnected", slog.String("location_id", locationID))
	return nil
}

// Status is a location's connection as the API shows it.
type Status struct {
	// State is "not_connected", "connected" or "broken".
	State string
	// Connection is the stored connection; nil when not connected.
	Connection *store.GHLConnection
}

// The states of Status.
const (
	StateNotConnected = "not_connected"
	StateConnected    = string(store.GHLConnected)
	StateBroken       = string(store.GHLBroken)
)

// Status returns the account's location's connection state. It returns the store's errors other
// than ErrNotFound (a location without a connection is not connected; callers check that the
// location exists).
func (s *Service) Status(ctx context.Context, accountID, locationID string) (Status, error) {
	c, err := s.store.GetGHLConnection(ctx, accountID, locationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Status{State: StateNotConnected}, nil
	case err != nil:
		return Status{}, fmt.Errorf("GHL status: %w", err)
	}
	return Status{State: string(c.State), Connection: &c}, nil
}

// SyncOptions tune one sync.
type SyncOptions struct {
	// Fresh reads GHL even when the cache holds a list younger than its TTL: a sync asked for by
	// a user. The periodic sync leaves it false.
	Fresh bool
}

// Sync reads GHL's workflow list of the account's connected location (refreshing its tokens first
// when they are about to expire) and records it (see store.ApplyGHLWorkflowList); the outcome is
// recorded on the connection either way. A connection whose tokens GHL refuses is marked broken,
// with the reason, and the sync fails with ErrNotConnected; a GHL that does not answer fails it with
// ErrUnavailable or ErrRateLimited, to be tried again later.
func (s *Service) Sync(ctx context.Context, accountID, locationID string, opts SyncOptions) (store.GHLApplyResult, error) {
	conn, err := s.store.GetGHLConnection(ctx, accountID, locationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w", ErrNotConnected)
	case err != nil:
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w", err)
	case conn.State == store.GHLBroken:
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w: the connection is broken (%s)", ErrNotConnected, conn.BrokenReason)
	}
	if err := s.notConfigured(s.ghl.MissingForPIT()); err != nil {
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w", err)
	}
	list, err := s.workflowList(ctx, conn, opts.Fresh)
	if err != nil {
		s.recordFailure(ctx, accountID, locationID, err)
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w", err)
	}
	res, err := s.apply(ctx, accountID, locationID, list)
	if err != nil {
		return store.GHLApplyResult{}, fmt.Errorf("sync GHL: %w", err)
	}
	return res, nil
}

// apply records a list read from GHL and the sync's success, and invalidates the location's cached
// views when the list changed them.
func (s *Service) apply(ctx context.Context, accountID, locationID string, list []Workflow) (store.GHLApplyResult, error) {
	seen := make([]store.GHLWorkflowSeen, len(list))
	for i, w := range list {
		seen[i] = store.GHLWorkflowSeen{ID: w.ID, Name: w.Name, Status: w.Status, Version: w.Version}
	}
	at := s.now()
	res, err := s.store.ApplyGHLWorkflowList(ctx, accountID, locationID, seen, at)
	if err != nil {
		return store.GHLApplyResult{}, err
	}
	if err := s.store.RecordGHLSync(ctx, accountID, locationID, store.GHLSyncResult{At: at, OK: true,
		Workflows: res.Workflows, Stale: res.Stale, NotImported: res.NotImported, Deleted: res.Deleted}); err != nil {
		return store.GHLApplyResult{}, err
	}
	syncsTotal.With("ok").Inc()
	if res.Changed {
		s.invalidate(ctx, accountID, locationID, false)
	}
	return res, nil
}

// recordFailure records a failed sync on the connection; a connection marked broken keeps its
// reason as the sync's detail too.
func (s *Service) recordFailure(ctx context.Context, accountID, locationID string, cause error) {
	outcome := "failed"
	if errors.Is(cause, ErrNotConnected) {
		outcome = "broken"
	}
	syncsTotal.With(outcome).Inc()
	detail := describe(cause)
	s.logger.LogAttrs(ctx, slog.LevelWarn, "GHL sync failed", slog.String("location_id", locationID), slog.String("reason", detail))
	if err := s.store.RecordGHLSync(ctx, accountID, locationID, store.GHLSyncResult{At: s.now(), Detail: detail}); err != nil &&
		!errors.Is(err, store.ErrNotFound) {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "record GHL sync", slog.String("location_id", locationID), slog.String("error", err.Error()))
	}
}

// describe turns an error of a sync into the sentence stored and shown on the location. The errors
// it reads carry no token by construction (see APIError); it names what happened, not how.
func describe(err error) string {
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status != 0:
		return fmt.Sprintf("%v (GHL answered %d)", apiErr.Kind, apiErr.Status)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("%v (no answer from GHL)", apiErr.Kind)
	case errors.Is(err, ErrNotConnected):
		return err.Error()
	case errors.Is(err, ErrUnknownKey):
		return "the stored tokens are under a key that " + EnvTokenKeys + " no longer holds; connect the location again"
	case errors.Is(err, ErrDecrypt):
		return "the stored tokens do not decrypt with the keys of " + EnvTokenKeys
	case errors.Is(err, store.ErrUnavailable):
		return "the database did not answer"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "the sync was stopped before GHL answered"
	default:
		return "the sync failed"
	}
}

// invalidate makes the location's cached views read again: the GHL list, and the workflow list
// and history pages that show ghlVersion and stale. A failure only costs freshness for a TTL, so it
// is logged, not returned.
func (s *Service) invalidate(ctx context.Context, accountID, locationID string, withGHLList bool) {
	if s.cache == nil {
		return
	}
	kinds := []cache.Kind{cache.KindWorkflowList, cache.KindHistoryPage}
	if withGHLList {
		kinds = append(kinds, cache.KindGHLWorkflows)
	}
	if err := s.cache.Bump(ctx, cache.Scope{Account: accountID, ID: locationID}, kinds...); err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "invalidate GHL views", slog.String("location_id", locationID), slog.String("error", err.Error()))
	}
	// An analysis shows whether GHL moved past it, and the API caches analyses by account.
	if err := s.cache.Bump(ctx, cache.Scope{Account: accountID}, cache.KindAnalysis); err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "invalidate GHL views", slog.String("location_id", locationID), slog.String("error", err.Error()))
	}
}

// workflowList returns GHL's list of the connection's location, from the cache when it holds one
// and fresh is false.
func (s *Service) workflowList(ctx context.Context, conn store.GHLConnection, fresh bool) ([]Workflow, error) {
	if s.cache == nil {
		return s.fetchList(ctx, conn)
	}
	scope := cache.Scope{Account: conn.AccountID, ID: conn.LocationID}
	if fresh {
		if err := s.cache.Bump(ctx, scope, cache.KindGHLWorkflows); err != nil {
			return nil, fmt.Errorf("read GHL's list afresh: %w", err)
		}
	}
	return cache.GetOrFill(ctx, s.cache, cache.KindGHLWorkflows, scope.Key("workflows"),
		func(ctx context.Context) ([]Workflow, error) { return s.fetchList(ctx, conn) })
}

// fetchList reads GHL's list with the connection's token. A refused OAuth token is refreshed once
// and tried again (it may have been revoked early); a token still refused, or a refused refresh,
// marks the connection broken.
func (s *Service) fetchList(ctx context.Context, conn store.GHLConnection) ([]Workflow, error) {
	token, refreshed, err := s.accessToken(ctx, conn, false)
	if err != nil {
		return nil, err
	}
	list, err := s.client.ListWorkflows(ctx, conn.GHLLocationID, token)
	if errors.Is(err, ErrTokenRejected) && conn.Kind == store.GHLOAuth && !refreshed {
		if token, _, err = s.accessToken(ctx, conn, true); err != nil {
			return nil, err
		}
		list, err = s.client.ListWorkflows(ctx, conn.GHLLocationID, token)
	}
	if errors.Is(err, ErrTokenRejected) {
		reason := "GHL refused the access token; connect the location again"
		if conn.Kind == store.GHLPIT {
			reason = "GHL refused the Private Integration Token; connect the location with a valid one"
		}
		return nil, s.markBroken(ctx, conn, reason)
	}
	return list, err
}

// markBroken marks the connection broken for reason and returns ErrNotConnected saying so.
func (s *Service) markBroken(ctx context.Context, conn store.GHLConnection, reason string) error {
	s.logger.LogAttrs(ctx, slog.LevelWarn, "GHL connection broken", slog.String("location_id", conn.LocationID), slog.String("reason", reason))
	if err := s.store.MarkGHLBroken(ctx, conn.AccountID, conn.LocationID, reason); err != nil {
		return fmt.Errorf("mark GHL connection broken: %w", err)
	}
	return fmt.Errorf("%w: %s", ErrNotConnected, reason)
}

// accessToken returns a usable access token of the connection and whether it was refreshed for
// this call: a Private Integration Token as it is, an OAuth token refreshed first when it expires
// within the margin or when force is set.
//
// A refresh runs under the location's lease, so one instance at a time trades the refresh token.
// GHL answers a new access token and a new refresh token; the old refresh token keeps working until
// a newer token is used, so the new pair is stored (replacing the old one in one statement, under
// the lease) before its access token is used. A process that dies between GHL's answer and that
// store has used nothing new, and the refresh token still stored still works: the next refresh
// starts again from it. (Were GHL to end a refresh token the moment it is used, that crash would
// lose it; the refresh would then be refused and the connection marked broken with the reason, never
// left silently failing. docs/ghl.md discusses it.)
func (s *Service) accessToken(ctx context.Context, conn store.GHLConnection, force bool) (Secret, bool, error) {
	keys := s.ghl.TokenKeys
	if conn.Kind == store.GHLPIT || (!force && s.fresh(conn)) {
		t, err := keys.Decrypt(conn.AccessToken, tokenAAD(conn.LocationID, "access"))
		return t, false, err
	}
	if err := s.notConfigured(s.ghl.Missing()); err != nil {
		return Secret{}, false, err
	}
	deadline := time.Now().Add(s.leaseWait)
	for {
		leased, err := s.store.LeaseGHLRefresh(ctx, conn.AccountID, conn.LocationID, s.owner, s.now().Add(s.leaseTTL))
		switch {
		case errors.Is(err, store.ErrConflict):
			// Another instance is refreshing: its tokens will do once stored.
			if time.Now().After(deadline) {
				return Secret{}, false, fmt.Errorf("refresh GHL tokens: %w: another instance's refresh did not finish in %s", ErrUnavailable, s.leaseWait)
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return Secret{}, false, fmt.Errorf("refresh GHL tokens: %w", err)
			}
			current, err := s.store.GetGHLConnection(ctx, conn.AccountID, conn.LocationID)
			if err != nil {
				return Secret{}, false, fmt.Errorf("refresh GHL tokens: %w", err)
			}
			if current.AccessToken != conn.AccessToken && current.State == store.GHLConnected && s.fresh(current) {
				t, err := keys.Decrypt(current.AccessToken, tokenAAD(current.LocationID, "access"))
				return t, true, err
			}
			continue
		case errors.Is(err, store.ErrNotFound):
			return Secret{}, false, fmt.Errorf("refresh GHL tokens: %w", ErrNotConnected)
		case err != nil:
			return Secret{}, false, fmt.Errorf("refresh GHL tokens: %w", err)
		}
		if leased.AccessToken != conn.AccessToken && s.fresh(leased) {
			// Another instance refreshed between our read and the lease.
			_ = s.store.ReleaseGHLLease(ctx, conn.LocationID, s.owner)
			t, err := keys.Decrypt(leased.AccessToken, tokenAAD(leased.LocationID, "access"))
			return t, true, err
		}
		t, err := s.refresh(ctx, leased)
		return t, err == nil, err
	}
}

// fresh reports whether the connection's access token is good beyond the refresh margin.
func (s *Service) fresh(c store.GHLConnection) bool {
	return c.AccessExpiresAt != nil && c.AccessExpiresAt.After(s.now().Add(s.refreshMargin))
}

// refresh trades the leased connection's refresh token and stores the new pair (see accessToken).
func (s *Service) refresh(ctx context.Context, conn store.GHLConnection) (Secret, error) {
	keys := s.ghl.TokenKeys
	release := func() {
		if err := s.store.ReleaseGHLLease(context.WithoutCancel(ctx), conn.LocationID, s.owner); err != nil {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "release GHL refresh lease", slog.String("location_id", conn.LocationID), slog.String("error", err.Error()))
		}
	}
	rt, err := keys.Decrypt(conn.RefreshToken, tokenAAD(conn.LocationID, "refresh"))
	if err != nil {
		release()
		return Secret{}, fmt.Errorf("refresh GHL tokens: %w", err)
	}
	tok, err := s.client.Refresh(ctx, rt)
	if errors.Is(err, ErrGrantRejected) {
		return Secret{}, s.markBroken(ctx, conn, "GHL refused the refresh token; connect the location again")
	}
	if err != nil {
		release()
		return Secret{}, fmt.Errorf("refresh GHL tokens: %w", err)
	}
	if s.afterRefresh != nil {
		if err := s.afterRefresh(); err != nil {
			// The test's stand-in for a crash: nothing is stored and the lease is left to expire.
			return Secret{}, fmt.Errorf("refresh GHL tokens: %w", err)
		}
	}
	if tok.RefreshToken.Empty() {
		// GHL rotates every time; should it not, the refresh token in hand stays the one to use.
		tok.RefreshToken = rt
	}
	err = s.store.StoreGHLRefresh(ctx, conn.AccountID, conn.LocationID, s.owner, store.GHLTokens{
		KeyID:           keys.CurrentKeyID(),
		AccessToken:     keys.Encrypt(tok.AccessToken, tokenAAD(conn.LocationID, "access")),
		RefreshToken:    keys.Encrypt(tok.RefreshToken, tokenAAD(conn.LocationID, "refresh")),
		AccessExpiresAt: tok.ExpiresAt,
		Scopes:          strings.Join(tok.Scopes, " "),
	})
	if err != nil {
		// The new pair is dropped unused, so the refresh token stored is still good (see
		// accessToken). The lease is given back for the next try, if this Service still holds it.
		release()
		return Secret{}, fmt.Errorf("refresh GHL tokens: %w", err)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "GHL tokens refreshed", slog.String("location_id", conn.LocationID),
		slog.Time("expires_at", tok.ExpiresAt))
	return tok.AccessToken, nil
}

// Reencrypt moves every connection's tokens to the current key of the ring, for the
// rotate-ghl-key command; it needs only the token keys. A connection refreshed meanwhile was
// written under the current key already and is skipped. It returns how many connections it moved,
// and fails with ErrUnknownKey when a connection's key is no longer in the ring.
func (s *Service) Reencrypt(ctx context.Context) (int, error) {
	if s.ghl.TokenKeys == nil {
		return 0, fmt.Errorf("re-encrypt GHL tokens: %w", &NotConfiguredError{Missing: []string{EnvTokenKeys}})
	}
	keys := s.ghl.TokenKeys
	rows, err := s.store.GHLCiphertextsNotUnder(ctx, keys.CurrentKeyID())
	if err != nil {
		return 0, fmt.Errorf("re-encrypt GHL tokens: %w", err)
	}
	moved := 0
	for _, old := range rows {
		updated := store.GHLCiphertexts{LocationID: old.LocationID, KeyID: keys.CurrentKeyID()}
		if updated.AccessToken, _, err = keys.Reencrypt(old.AccessToken, tokenAAD(old.LocationID, "access")); err != nil {
			return moved, fmt.Errorf("re-encrypt GHL tokens of %s: %w", old.LocationID, err)
		}
		if old.RefreshToken != "" {
			if updated.RefreshToken, _, err = keys.Reencrypt(old.RefreshToken, tokenAAD(old.LocationID, "refresh")); err != nil {
				return moved, fmt.Errorf("re-encrypt GHL tokens of %s: %w", old.LocationID, err)
			}
		}
		ok, err := s.store.ReplaceGHLCiphertexts(ctx, old, updated)
		if err != nil {
			return moved, fmt.Errorf("re-encrypt GHL tokens of %s: %w", old.LocationID, err)
		}
		if ok {
			moved++
		}
	}
	return moved, nil
}
