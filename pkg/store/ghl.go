package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The GHL connection of a location: its tokens (ciphertexts only; pkg/ghl encrypts and decrypts),
// the OAuth states in flight, GHL's workflow list as the syncs saw it and the versions seen of each
// workflow. See db/migrations/*/00010_ghl.sql.

// GHLConnectionKind says how a location was connected.
type GHLConnectionKind string

// The kinds, as stored.
const (
	// GHLOAuth is the Marketplace app's authorization-code flow: an access token that expires and
	// a refresh token that rotates.
	GHLOAuth GHLConnectionKind = "oauth"
	// GHLPIT is a Private Integration Token of the sub-account: one token that does not expire.
	GHLPIT GHLConnectionKind = "pit"
)

// GHLConnectionState is whether a connection works.
type GHLConnectionState string

// The states, as stored. A location without a row is not connected.
const (
	GHLConnected GHLConnectionState = "connected"
	// GHLBroken means GHL refused the stored tokens; BrokenReason says why, and the location must
	// be connected again.
	GHLBroken GHLConnectionState = "broken"
)

// GHLConnection is a location's connection to GHL. AccessToken and RefreshToken are ciphertexts
// that pkg/ghl wrote; KeyID names the key of both.
type GHLConnection struct {
	LocationID    string
	AccountID     string
	GHLLocationID string
	Kind          GHLConnectionKind
	State         GHLConnectionState
	BrokenReason  string
	// Scopes are the scopes GHL granted, separated by spaces.
	Scopes       string
	KeyID        string
	AccessToken  string
	RefreshToken string
	// AccessExpiresAt is when the access token expires; nil for a Private Integration Token.
	AccessExpiresAt *time.Time
	ConnectedAt     time.Time
	UpdatedAt       time.Time
	// RefreshedAt is when the tokens were last refreshed; nil before the first refresh.
	RefreshedAt *time.Time
	// LastSync is the outcome of the last sync; nil before the first.
	LastSync *GHLSyncResult
}

// NewGHLConnection is what PutGHLConnection stores. An OAuth connection has RefreshToken and
// AccessExpiresAt; a Private Integration Token has neither.
type NewGHLConnection struct {
	Kind            GHLConnectionKind
	GHLLocationID   string
	Scopes          string
	KeyID           string
	AccessToken     string
	RefreshToken    string
	AccessExpiresAt *time.Time
}

// GHLTokens is a refreshed token pair, encrypted.
type GHLTokens struct {
	KeyID           string
	AccessToken     string
	RefreshToken    string
	AccessExpiresAt time.Time
	Scopes          string
}

// GHLSyncResult is the outcome of one sync.
type GHLSyncResult struct {
	At time.Time
	OK bool
	// Detail says why the sync failed; "" when it succeeded.
	Detail      string
	Workflows   int
	Stale       int
	NotImported int
	Deleted     int
}

// GHLOAuthState is an authorization in flight: the nonce of its signed state and whom it is for.
type GHLOAuthState struct {
	Nonce      string
	AccountID  string
	LocationID string
	ExpiresAt  time.Time
}

// GHLConnectionRef names a connected location, for the periodic sync.
type GHLConnectionRef struct {
	AccountID  string
	LocationID string
}

// GHLWorkflowSeen is one workflow of GHL's list, as a sync read it.
type GHLWorkflowSeen struct {
	ID      string
	Name    string
	Status  string
	Version int
}

// GHLWorkflow is one workflow of GHL's list as the syncs recorded it, with what the location
// imported of it.
type GHLWorkflow struct {
	GHLWorkflowID string
	Name          string
	Status        string
	// Version is the version in GHL at the last sync that listed the workflow.
	Version     int
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	// DeletedAt is when a sync first found the workflow gone from GHL; nil while GHL lists it.
	DeletedAt *time.Time
	// WorkflowID is the stored workflow's id ("wfl_..."), "" when it was never imported.
	WorkflowID string
	// ImportedVersion is the imported document's version, nil when never imported.
	ImportedVersion *int
	// Stale is whether GHL's version is newer than the imported one.
	Stale bool
}

// GHLApplyResult is what ApplyGHLWorkflowList recorded.
type GHLApplyResult struct {
	// Workflows is how many workflows GHL listed.
	Workflows int
	// Stale counts the stored workflows whose GHL version is newer than the imported one;
	// StaleWorkflowIDs are their ids ("wfl_..."), sorted.
	Stale            int
	StaleWorkflowIDs []string
	// NotImported counts the workflows GHL lists that the location never imported.
	NotImported int
	// Deleted counts the workflows this sync found gone from GHL.
	Deleted int
	// Changed is whether anything differs from the previous sync: a workflow new, changed
	// (version, name or status), deleted or back. Callers invalidate cached views when it is.
	Changed bool
}

// GHLVersion is a version of a workflow that a sync saw in GHL, and when first.
type GHLVersion struct {
	Version int
	SeenAt  time.Time
}

// GHLVersionHistory is a stored workflow's drift history, beside its imported version.
type GHLVersionHistory struct {
	WorkflowID      string
	GHLWorkflowID   string
	ImportedVersion int
	Stale           bool
	Versions        []GHLVersion
}

// GHLCiphertexts are a connection's encrypted tokens, for key rotation.
type GHLCiphertexts struct {
	LocationID   string
	KeyID        string
	AccessToken  string
	RefreshToken string
}

// ghlStateExpiredKept is how long an expired OAuth state is kept before issuing a new state deletes
// it: long enough that a late callback is told "expired" rather than "unknown".
const ghlStateExpiredKept = 24 * time.Hour

// CreateGHLOAuthState records the nonce of a new OAuth state for the account's location, and
// deletes the states that expired more than a day ago. It returns ErrNotFound when the account has
// no such location and ErrConflict for a nonce already recorded.
func (q *queries) CreateGHLOAuthState(ctx context.Context, st GHLOAuthState) error {
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.checkLocation(ctx, st.AccountID, st.LocationID); err != nil {
			return err
		}
		t := q.now()
		if _, err := q.exec(ctx, famGHLStatesCleanup, `DELETE FROM ghl_oauth_states WHERE expires_at < ?`, t.Add(-ghlStateExpiredKept)); err != nil {
			return err
		}
		_, err := q.exec(ctx, famGHLStatesCreate, `INSERT INTO ghl_oauth_states (nonce, account_id, location_id, created_at, expires_at)
VALUES (?, ?, ?, ?, ?)`, st.Nonce, st.AccountID, st.LocationID, t, st.ExpiresAt.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("create GHL OAuth state: %w", err)
	}
	return nil
}

// ConsumeGHLOAuthState marks the state of nonce used, once: of concurrent callers on any instance,
// one gets the state and the others ErrConflict. It returns ErrConflict for a state already used,
// ErrGHLStateExpired for one whose time ran out at now, and ErrNotFound for a nonce not recorded
// (never issued, or its location deleted).
func (q *queries) ConsumeGHLOAuthState(ctx context.Context, nonce string, now time.Time) (GHLOAuthState, error) {
	var row struct {
		AccountID  string    `db:"account_id"`
		LocationID string    `db:"location_id"`
		ExpiresAt  time.Time `db:"expires_at"`
	}
	// One statement decides: the row changes only while unused and unexpired, so two callbacks
	// with the same state cannot both see it unused.
	const consume = `UPDATE ghl_oauth_states SET used_at = ?
WHERE nonce = ? AND used_at IS NULL AND expires_at > ?
RETURNING account_id, location_id, expires_at`
	err := q.get(ctx, famGHLStatesConsume, &row, consume, now.UTC(), nonce, now.UTC())
	if err == nil {
		return GHLOAuthState{Nonce: nonce, AccountID: row.AccountID, LocationID: row.LocationID, ExpiresAt: row.ExpiresAt.UTC()}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return GHLOAuthState{}, fmt.Errorf("consume GHL OAuth state: %w", err)
	}
	// Nothing changed: say why, for the callback's answer.
	var why struct {
		UsedAt *time.Time `db:"used_at"`
	}
	if err := q.get(ctx, famGHLStatesGet, &why, `SELECT used_at FROM ghl_oauth_states WHERE nonce = ?`, nonce); err != nil {
		return GHLOAuthState{}, fmt.Errorf("consume GHL OAuth state: %w", err)
	}
	if why.UsedAt != nil {
		return GHLOAuthState{}, fmt.Errorf("consume GHL OAuth state: %w: already used", ErrConflict)
	}
	return GHLOAuthState{}, fmt.Errorf("consume GHL OAuth state: %w", ErrGHLStateExpired)
}

// ErrGHLStateExpired means an OAuth state's time ran out before it was used.
var ErrGHLStateExpired = fmt.Errorf("%w: OAuth state expired", ErrNotFound)

// ghlConnectionRow is a ghl_connections row as the drivers scan it.
type ghlConnectionRow struct {
	LocationID          string     `db:"location_id"`
	AccountID           string     `db:"account_id"`
	Kind                string     `db:"kind"`
	State               string     `db:"state"`
	BrokenReason        string     `db:"broken_reason"`
	GHLLocationID       string     `db:"ghl_location_id"`
	Scopes              string     `db:"scopes"`
	KeyID               string     `db:"key_id"`
	AccessToken         string     `db:"access_token"`
	RefreshToken        *string    `db:"refresh_token"`
	AccessExpiresAt     *time.Time `db:"access_expires_at"`
	ConnectedAt         time.Time  `db:"connected_at"`
	UpdatedAt           time.Time  `db:"updated_at"`
	RefreshedAt         *time.Time `db:"refreshed_at"`
	LastSyncAt          *time.Time `db:"last_sync_at"`
	LastSyncOK          *bool      `db:"last_sync_ok"`
	LastSyncDetail      string     `db:"last_sync_detail"`
	LastSyncWorkflows   int        `db:"last_sync_workflows"`
	LastSyncStale       int        `db:"last_sync_stale"`
	LastSyncNotImported int        `db:"last_sync_not_imported"`
	LastSyncDeleted     int        `db:"last_sync_deleted"`
}

const ghlConnectionColumns = `c.location_id, l.account_id, c.kind, c.state, c.broken_reason, c.ghl_location_id,
	c.scopes, c.key_id, c.access_token, c.refresh_token, c.access_expires_at, c.connected_at, c.updated_at,
	c.refreshed_at, c.last_sync_at, c.last_sync_ok, c.last_sync_detail, c.last_sync_workflows, c.last_sync_stale,
	c.last_sync_not_imported, c.last_sync_deleted`

// connection converts the row, normalizing times to UTC.
func (r ghlConnectionRow) connection() GHLConnection {
	c := GHLConnection{
		LocationID:      r.LocationID,
		AccountID:       r.AccountID,
		GHLLocationID:   r.GHLLocationID,
		Kind:            GHLConnectionKind(r.Kind),
		State:           GHLConnectionState(r.State),
		BrokenReason:    r.BrokenReason,
		Scopes:          r.Scopes,
		KeyID:           r.KeyID,
		AccessToken:     r.AccessToken,
		RefreshToken:    deref(r.RefreshToken),
		AccessExpiresAt: utcPtr(r.AccessExpiresAt),
		ConnectedAt:     r.ConnectedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
		RefreshedAt:     utcPtr(r.RefreshedAt),
	}
	if r.LastSyncAt != nil && r.LastSyncOK != nil {
		c.LastSync = &GHLSyncResult{
			At: r.LastSyncAt.UTC(), OK: *r.LastSyncOK, Detail: r.LastSyncDetail, Workflows: r.LastSyncWorkflows,
			Stale: r.LastSyncStale, NotImported: r.LastSyncNotImported, Deleted: r.LastSyncDeleted,
		}
	}
	return c
}

// utcPtr returns t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ghlReasonMax bounds a stored reason, as the schema does.
const ghlReasonMax = 500

// PutGHLConnection stores the account's location's connection, replacing any earlier one: the new
// tokens, state connected, no reason, no lease. GHL's workflow list and the versions seen are kept,
// as is the last sync. It returns ErrNotFound when the account has no such location and
// ErrInvalid for a value the schema refuses (an unknown kind, an OAuth connection without a
// refresh token or expiry, a PIT with one, a token that is not a ciphertext).
func (q *queries) PutGHLConnection(ctx context.Context, accountID, locationID string, in NewGHLConnection) (GHLConnection, error) {
	var out GHLConnection
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.checkLocation(ctx, accountID, locationID); err != nil {
			return err
		}
		t := q.now()
		var refresh *string
		if in.RefreshToken != "" {
			refresh = &in.RefreshToken
		}
		const query = `INSERT INTO ghl_connections (location_id, kind, state, broken_reason, ghl_location_id, scopes, key_id,
	access_token, refresh_token, access_expires_at, connected_at, updated_at)
VALUES (?, ?, 'connected', '', ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (location_id) DO UPDATE SET kind = excluded.kind, state = 'connected', broken_reason = '',
	ghl_location_id = excluded.ghl_location_id, scopes = excluded.scopes, key_id = excluded.key_id,
	access_token = excluded.access_token, refresh_token = excluded.refresh_token,
	access_expires_at = excluded.access_expires_at, refresh_lease_owner = NULL, refresh_lease_until = NULL,
	connected_at = excluded.connected_at, updated_at = excluded.updated_at, refreshed_at = NULL`
		if _, err := q.exec(ctx, famGHLConnectionsPut, query, locationID, string(in.Kind), in.GHLLocationID, in.Scopes,
			in.KeyID, in.AccessToken, refresh, utcPtr(in.AccessExpiresAt), t, t); err != nil {
			return err
		}
		var err error
		out, err = q.getGHLConnection(ctx, accountID, locationID)
		return err
	})
	if err != nil {
		return GHLConnection{}, fmt.Errorf("put GHL connection: %w", err)
	}
	return out, nil
}

// GetGHLConnection returns the account's location's connection. It returns ErrNotFound when the
// location is not connected or the account has no such location.
func (q *queries) GetGHLConnection(ctx context.Context, accountID, locationID string) (GHLConnection, error) {
	c, err := q.getGHLConnection(ctx, accountID, locationID)
	if err != nil {
		return GHLConnection{}, fmt.Errorf("get GHL connection: %w", err)
	}
	return c, nil
}

// getGHLConnection reads a connection with its account.
func (q *queries) getGHLConnection(ctx context.Context, accountID, locationID string) (GHLConnection, error) {
	const query = `SELECT ` + ghlConnectionColumns + ` FROM ghl_connections c JOIN locations l ON l.id = c.location_id
WHERE c.location_id = ? AND l.account_id = ?`
	var r ghlConnectionRow
	if err := q.get(ctx, famGHLConnectionsGet, &r, query, locationID, accountID); err != nil {
		return GHLConnection{}, err
	}
	return r.connection(), nil
}

// DeleteGHLConnection deletes the account's location's connection, its tokens, GHL's workflow list
// and the versions seen. It returns ErrNotFound when the location is not connected or the account
// has no such location.
func (q *queries) DeleteGHLConnection(ctx context.Context, accountID, locationID string) error {
	const query = `DELETE FROM ghl_connections
WHERE location_id = ? AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
	res, err := q.exec(ctx, famGHLConnectionsDelete, query, locationID, locationID, accountID)
	if err != nil {
		return fmt.Errorf("delete GHL connection: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("delete GHL connection: %w", cmpErr(err, ErrNotFound))
	}
	return nil
}

// cmpErr returns err, or fallback when err is nil.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// ListGHLConnections returns every connected location of every account (broken ones are left out:
// syncing them cannot work), by location id. The periodic sync walks it.
func (q *queries) ListGHLConnections(ctx context.Context) ([]GHLConnectionRef, error) {
	const query = `SELECT l.account_id, c.location_id FROM ghl_connections c JOIN locations l ON l.id = c.location_id
WHERE c.state = 'connected' ORDER BY c.location_id`
	var rows []struct {
		AccountID  string `db:"account_id"`
		LocationID string `db:"location_id"`
	}
	if err := q.list(ctx, famGHLConnectionsList, &rows, query); err != nil {
		return nil, fmt.Errorf("list GHL connections: %w", err)
	}
	out := make([]GHLConnectionRef, len(rows))
	for i, r := range rows {
		out[i] = GHLConnectionRef{AccountID: r.AccountID, LocationID: r.LocationID}
	}
	return out, nil
}

// LeaseGHLRefresh takes the refresh lease of a connected OAuth location for owner until until, and
// returns the connection as it is under the lease: of the instances that try at once, one holds
// the lease and refreshes; the others get ErrConflict and read the tokens it stores. A lease whose
// time ran out (its owner died) is taken over. It returns ErrNotFound when the location has no
// connected OAuth connection or the account has no such location.
func (q *queries) LeaseGHLRefresh(ctx context.Context, accountID, locationID, owner string, until time.Time) (GHLConnection, error) {
	var out GHLConnection
	err := q.atomic(ctx, func(q *queries) error {
		t := q.now()
		const query = `UPDATE ghl_connections SET refresh_lease_owner = ?, refresh_lease_until = ?
WHERE location_id = ? AND state = 'connected' AND kind = 'oauth'
	AND (refresh_lease_until IS NULL OR refresh_lease_until <= ? OR refresh_lease_owner = ?)
	AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
		res, err := q.exec(ctx, famGHLConnectionsLease, query, owner, until.UTC(), locationID, t, owner, locationID, accountID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		// The row is read after the lease is taken, not before: on PostgreSQL an UPDATE that waited
		// for another instance's StoreGHLRefresh applies to the row that one committed, and only a
		// read after it sees that row's new refresh token.
		c, err := q.getGHLConnection(ctx, accountID, locationID)
		switch {
		case err != nil:
			return err
		case c.State != GHLConnected || c.Kind != GHLOAuth:
			return fmt.Errorf("%w: not a connected OAuth connection", ErrNotFound)
		case n == 0:
			return fmt.Errorf("%w: another instance holds the refresh lease", ErrConflict)
		}
		out = c
		return nil
	})
	if err != nil {
		return GHLConnection{}, fmt.Errorf("lease GHL refresh: %w", err)
	}
	return out, nil
}

// StoreGHLRefresh replaces a connection's tokens with the refreshed pair and releases the lease, in
// one statement that changes the row only while owner holds the lease. It returns ErrConflict
// when the lease was lost (its time ran out and another instance took it) or the connection was
// replaced or deleted meanwhile; the refreshed pair is then not stored.
func (q *queries) StoreGHLRefresh(ctx context.Context, accountID, locationID, owner string, tok GHLTokens) error {
	t := q.now()
	const query = `UPDATE ghl_connections SET key_id = ?, access_token = ?, refresh_token = ?, access_expires_at = ?,
	scopes = CASE WHEN ? = '' THEN scopes ELSE ? END, refreshed_at = ?, updated_at = ?,
	refresh_lease_owner = NULL, refresh_lease_until = NULL
WHERE location_id = ? AND refresh_lease_owner = ? AND state = 'connected'
	AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
	res, err := q.exec(ctx, famGHLConnectionsRefresh, query, tok.KeyID, tok.AccessToken, tok.RefreshToken,
		tok.AccessExpiresAt.UTC(), tok.Scopes, tok.Scopes, t, t, locationID, owner, locationID, accountID)
	if err != nil {
		return fmt.Errorf("store GHL refresh: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store GHL refresh: %w", cmpErr(err, fmt.Errorf("%w: the refresh lease was lost", ErrConflict)))
	}
	return nil
}

// ReleaseGHLLease gives up owner's refresh lease without storing anything, after a refresh that
// failed. A lease that owner no longer holds is left alone.
func (q *queries) ReleaseGHLLease(ctx context.Context, locationID, owner string) error {
	const query = `UPDATE ghl_connections SET refresh_lease_owner = NULL, refresh_lease_until = NULL
WHERE location_id = ? AND refresh_lease_owner = ?`
	if _, err := q.exec(ctx, famGHLConnectionsRelease, query, locationID, owner); err != nil {
		return fmt.Errorf("release GHL refresh lease: %w", err)
	}
	return nil
}

// MarkGHLBroken marks the account's location's connection broken, for reason (cut to 500
// characters), and releases any lease. The tokens stay until the location is connected again or
// disconnected. It returns ErrNotFound when the location is not connected or the account has no
// such location.
func (q *queries) MarkGHLBroken(ctx context.Context, accountID, locationID, reason string) error {
	if len(reason) > ghlReasonMax {
		reason = reason[:ghlReasonMax]
	}
	t := q.now()
	const query = `UPDATE ghl_connections SET state = 'broken', broken_reason = ?, updated_at = ?,
	refresh_lease_owner = NULL, refresh_lease_until = NULL
WHERE location_id = ? AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
	res, err := q.exec(ctx, famGHLConnectionsBroken, query, reason, t, locationID, locationID, accountID)
	if err != nil {
		return fmt.Errorf("mark GHL connection broken: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("mark GHL connection broken: %w", cmpErr(err, ErrNotFound))
	}
	return nil
}

// RecordGHLSync records the outcome of a sync of the account's location (Detail cut to 500
// characters). It returns ErrNotFound when the location is not connected or the account has no
// such location.
func (q *queries) RecordGHLSync(ctx context.Context, accountID, locationID string, r GHLSyncResult) error {
	if len(r.Detail) > ghlReasonMax {
		r.Detail = r.Detail[:ghlReasonMax]
	}
	const query = `UPDATE ghl_connections SET last_sync_at = ?, last_sync_ok = ?, last_sync_detail = ?,
	last_sync_workflows = ?, last_sync_stale = ?, last_sync_not_imported = ?, last_sync_deleted = ?
WHERE location_id = ? AND location_id IN (SELECT id FROM locations WHERE id = ? AND account_id = ?)`
	res, err := q.exec(ctx, famGHLConnectionsSynced, query, r.At.UTC(), r.OK, r.Detail, r.Workflows, r.Stale,
		r.NotImported, r.Deleted, locationID, locationID, accountID)
	if err != nil {
		return fmt.Errorf("record GHL sync: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("record GHL sync: %w", cmpErr(err, ErrNotFound))
	}
	return nil
}

// GHLCiphertextsNotUnder returns the encrypted tokens of every connection whose key is not keyID,
// for key rotation.
func (q *queries) GHLCiphertextsNotUnder(ctx context.Context, keyID string) ([]GHLCiphertexts, error) {
	const query = `SELECT location_id, key_id, access_token, refresh_token FROM ghl_connections WHERE key_id <> ? ORDER BY location_id`
	var rows []struct {
		LocationID   string  `db:"location_id"`
		KeyID        string  `db:"key_id"`
		AccessToken  string  `db:"access_token"`
		RefreshToken *string `db:"refresh_token"`
	}
	if err := q.list(ctx, famGHLConnectionsKeys, &rows, query, keyID); err != nil {
		return nil, fmt.Errorf("list GHL ciphertexts: %w", err)
	}
	out := make([]GHLCiphertexts, len(rows))
	for i, r := range rows {
		out[i] = GHLCiphertexts{LocationID: r.LocationID, KeyID: r.KeyID, AccessToken: r.AccessToken, RefreshToken: deref(r.RefreshToken)}
	}
	return out, nil
}

// ReplaceGHLCiphertexts stores re-encrypted tokens of a connection, only if its tokens are still
// old's (a refresh meanwhile stored a new pair, already under the current key). It reports whether
// it replaced them.
func (q *queries) ReplaceGHLCiphertexts(ctx context.Context, old, updated GHLCiphertexts) (bool, error) {
	var refresh *string
	if updated.RefreshToken != "" {
		refresh = &updated.RefreshToken
	}
	const query = `UPDATE ghl_connections SET key_id = ?, access_token = ?, refresh_token = ?
WHERE location_id = ? AND key_id = ? AND access_token = ?`
	res, err := q.exec(ctx, famGHLConnectionsRekey, query, updated.KeyID, updated.AccessToken, refresh,
		old.LocationID, old.KeyID, old.AccessToken)
	if err != nil {
		return false, fmt.Errorf("replace GHL ciphertexts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("replace GHL ciphertexts: %w", err)
	}
	return n == 1, nil
}

// ghlWorkflowRow is a ghl_workflows row joined with the stored workflow of the same GHL id.
type ghlWorkflowRow struct {
	GHLWorkflowID   string     `db:"ghl_workflow_id"`
	Name            string     `db:"name"`
	Status          string     `db:"status"`
	Version         int        `db:"version"`
	FirstSeenAt     time.Time  `db:"first_seen_at"`
	LastSeenAt      time.Time  `db:"last_seen_at"`
	DeletedAt       *time.Time `db:"deleted_at"`
	WorkflowID      *string    `db:"workflow_id"`
	ImportedVersion *int       `db:"imported_version"`
}

// ghlWorkflowColumns and ghlWorkflowFrom read GHL's list with what was imported of it: the join is
// on the unique (location_id, ghl_workflow_id) of both tables.
const (
	ghlWorkflowColumns = `g.ghl_workflow_id, g.name, g.status, g.version, g.first_seen_at, g.last_seen_at, g.deleted_at,
	w.id AS workflow_id, w.ghl_version AS imported_version`
	ghlWorkflowFrom = `ghl_workflows g LEFT JOIN workflows w ON w.location_id = g.location_id AND w.ghl_workflow_id = g.ghl_workflow_id`
)

// workflow converts the row. A workflow is stale while GHL lists it with a version newer than the
// imported one.
func (r ghlWorkflowRow) workflow() GHLWorkflow {
	g := GHLWorkflow{
		GHLWorkflowID: r.GHLWorkflowID, Name: r.Name, Status: r.Status, Version: r.Version,
		FirstSeenAt: r.FirstSeenAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), DeletedAt: utcPtr(r.DeletedAt),
		WorkflowID: deref(r.WorkflowID), ImportedVersion: r.ImportedVersion,
	}
	g.Stale = r.ImportedVersion != nil && r.DeletedAt == nil && r.Version > *r.ImportedVersion
	return g
}

// validateSeen checks a sync's list: GHL ids present and unique, values the schema takes.
func validateSeen(list []GHLWorkflowSeen) error {
	seen := make(map[string]bool, len(list))
	for _, w := range list {
		switch {
		case w.ID == "" || len(w.ID) > 255:
			return fmt.Errorf("%w: a GHL workflow id must be 1 to 255 characters", ErrInvalid)
		case seen[w.ID]:
			return fmt.Errorf("%w: GHL listed workflow %q twice", ErrInvalid, w.ID)
		case w.Version < 0:
			return fmt.Errorf("%w: GHL workflow %q has a negative version", ErrInvalid, w.ID)
		}
		seen[w.ID] = true
	}
	return nil
}

// clip cuts s to at most n runes, so that a long name from GHL never fails a sync.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// ApplyGHLWorkflowList records, in one transaction, GHL's workflow list of the account's connected
// location as a sync read it at seenAt: each workflow's name, status and version (a version not
// seen before joins the drift history), the workflows GHL no longer lists as deleted (and those
// back as not deleted), and it counts the stored workflows that are stale and GHL's workflows never
// imported. It returns ErrNotFound when the location is not connected or the account has no such
// location, and ErrInvalid when list names a GHL id twice or has an empty id or negative version.
func (q *queries) ApplyGHLWorkflowList(ctx context.Context, accountID, locationID string, list []GHLWorkflowSeen, seenAt time.Time) (GHLApplyResult, error) {
	if err := validateSeen(list); err != nil {
		return GHLApplyResult{}, fmt.Errorf("apply GHL workflow list: %w", err)
	}
	seenAt = seenAt.UTC().Truncate(time.Microsecond)
	var out GHLApplyResult
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.getGHLConnection(ctx, accountID, locationID); err != nil {
			return err
		}
		var before []ghlWorkflowRow
		if err := q.list(ctx, famGHLWorkflowsRead, &before, `SELECT `+ghlWorkflowColumns+` FROM `+ghlWorkflowFrom+`
WHERE g.location_id = ?`, locationID); err != nil {
			return err
		}
		prev := make(map[string]ghlWorkflowRow, len(before))
		for _, r := range before {
			prev[r.GHLWorkflowID] = r
		}
		sorted := slices.Clone(list)
		// Rows are written in GHL id order, so two syncs of one location lock them in the same
		// order and cannot deadlock on PostgreSQL.
		slices.SortFunc(sorted, func(a, b GHLWorkflowSeen) int { return strings.Compare(a.ID, b.ID) })
		changed := false
		listed := make(map[string]bool, len(sorted))
		for _, w := range sorted {
			listed[w.ID] = true
			p, ok := prev[w.ID]
			if !ok || p.Version != w.Version || p.Name != clip(w.Name, 1000) || p.Status != clip(w.Status, 64) || p.DeletedAt != nil {
				changed = true
			}
		}
		if err := q.upsertGHLWorkflows(ctx, locationID, sorted, seenAt); err != nil {
			return err
		}
		var gone []string
		for _, r := range before {
			if r.DeletedAt == nil && !listed[r.GHLWorkflowID] {
				gone = append(gone, r.GHLWorkflowID)
			}
		}
		if err := q.markGHLWorkflowsDeleted(ctx, locationID, gone, seenAt); err != nil {
			return err
		}
		out.Deleted = len(gone)
		out.Changed = changed || len(gone) > 0
		var err error
		out.Workflows = len(list)
		out.Stale, out.StaleWorkflowIDs, out.NotImported, err = q.countGHLDrift(ctx, locationID)
		return err
	})
	if err != nil {
		return GHLApplyResult{}, fmt.Errorf("apply GHL workflow list: %w", err)
	}
	return out, nil
}

// ghlBatch is how many workflows one statement of a sync writes (5 values each).
const ghlBatch = 200

// upsertGHLWorkflows writes the listed workflows, sorted by GHL id, and their versions.
func (q *queries) upsertGHLWorkflows(ctx context.Context, locationID string, sorted []GHLWorkflowSeen, seenAt time.Time) error {
	for chunk := range slices.Chunk(sorted, ghlBatch) {
		args := make([]any, 0, len(chunk)*7)
		vargs := make([]any, 0, len(chunk)*4)
		for _, w := range chunk {
			args = append(args, locationID, w.ID, clip(w.Name, 1000), clip(w.Status, 64), w.Version, seenAt, seenAt)
			vargs = append(vargs, locationID, w.ID, w.Version, seenAt)
		}
		query := `INSERT INTO ghl_workflows (location_id, ghl_workflow_id, name, status, version, first_seen_at, last_seen_at)
VALUES ` + placeholders(len(chunk), 7) + `
ON CONFLICT (location_id, ghl_workflow_id) DO UPDATE SET name = excluded.name, status = excluded.status,
	version = excluded.version, last_seen_at = excluded.last_seen_at, deleted_at = NULL`
		if _, err := q.exec(ctx, famGHLWorkflowsUpsert, query, args...); err != nil {
			return err
		}
		// A version already seen keeps the time it was first seen.
		vquery := `INSERT INTO ghl_workflow_versions (location_id, ghl_workflow_id, version, seen_at)
VALUES ` + placeholders(len(chunk), 4) + `
ON CONFLICT (location_id, ghl_workflow_id, version) DO NOTHING`
		if _, err := q.exec(ctx, famGHLVersionsInsert, vquery, vargs...); err != nil {
			return err
		}
	}
	return nil
}

// markGHLWorkflowsDeleted sets deleted_at of the location's workflows ids.
func (q *queries) markGHLWorkflowsDeleted(ctx context.Context, locationID string, ids []string, at time.Time) error {
	for chunk := range slices.Chunk(ids, ghlBatch) {
		args := make([]any, 0, len(chunk)+2)
		args = append(args, at, locationID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `UPDATE ghl_workflows SET deleted_at = ? WHERE location_id = ? AND ghl_workflow_id IN ` + placeholders(1, len(chunk))
		if _, err := q.exec(ctx, famGHLWorkflowsDelete, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// countGHLDrift counts the location's stale stored workflows (and returns their ids, sorted) and
// GHL's listed workflows that were never imported.
func (q *queries) countGHLDrift(ctx context.Context, locationID string) (stale int, staleIDs []string, notImported int, err error) {
	const query = `SELECT w.id AS workflow_id, CASE WHEN w.id IS NULL THEN 1 ELSE 0 END AS not_imported
FROM ghl_workflows g LEFT JOIN workflows w ON w.location_id = g.location_id AND w.ghl_workflow_id = g.ghl_workflow_id
WHERE g.location_id = ? AND g.deleted_at IS NULL AND (w.id IS NULL OR g.version > w.ghl_version)
ORDER BY w.id`
	var rows []struct {
		WorkflowID  *string `db:"workflow_id"`
		NotImported int     `db:"not_imported"`
	}
	if err := q.list(ctx, famGHLWorkflowsCount, &rows, query, locationID); err != nil {
		return 0, nil, 0, err
	}
	for _, r := range rows {
		if r.NotImported == 1 {
			notImported++
			continue
		}
		staleIDs = append(staleIDs, *r.WorkflowID)
	}
	slices.Sort(staleIDs)
	return len(staleIDs), staleIDs, notImported, nil
}

// ghlCursor is the position after a page of GHL's list: the last GHL id, in base64url.
func ghlCursor(id string) string { return "g" + base64.RawURLEncoding.EncodeToString([]byte(id)) }

// decodeGHLCursor parses a cursor that ghlCursor returned.
func decodeGHLCursor(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "g")
	if !ok {
		return "", ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) == 0 || ghlCursor(string(raw)) != s {
		return "", ErrInvalidCursor
	}
	return string(raw), nil
}

// ListGHLWorkflows returns one page of GHL's workflow list of the account's location as the syncs
// recorded it, by GHL id (byte order), deleted workflows included, with what was imported of each,
// and the cursor of the next page ("" after the last). A location never synced, or not connected,
// has an empty list. It returns ErrNotFound when the account has no such location,
// ErrInvalidCursor for a cursor that ListGHLWorkflows did not return and ErrInvalid for a limit out
// of range.
func (q *queries) ListGHLWorkflows(ctx context.Context, accountID, locationID string, p Page) ([]GHLWorkflow, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", fmt.Errorf("list GHL workflows: %w", err)
	}
	after := ""
	if p.Cursor != "" {
		if after, err = decodeGHLCursor(p.Cursor); err != nil {
			return nil, "", fmt.Errorf("list GHL workflows: %w", err)
		}
	}
	if err := q.checkLocation(ctx, accountID, locationID); err != nil {
		return nil, "", fmt.Errorf("list GHL workflows: %w", err)
	}
	const query = `SELECT ` + ghlWorkflowColumns + ` FROM ` + ghlWorkflowFrom + `
WHERE g.location_id = ? AND g.ghl_workflow_id > ?
ORDER BY g.ghl_workflow_id
LIMIT ?`
	var rows []ghlWorkflowRow
	if err := q.list(ctx, famGHLWorkflowsList, &rows, query, locationID, after, limit+1); err != nil {
		return nil, "", fmt.Errorf("list GHL workflows: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = ghlCursor(rows[limit-1].GHLWorkflowID)
	}
	out := make([]GHLWorkflow, len(rows))
	for i, r := range rows {
		out[i] = r.workflow()
	}
	return out, next, nil
}

// GHLWorkflowsOf returns what the syncs recorded of the account's location's workflows with the
// given GHL ids, by GHL id; an id GHL never listed is absent. The API decorates a page of the
// workflow list with it (ghlVersion, stale, ghlDeletedAt). It returns ErrNotFound when the account
// has no such location.
func (q *queries) GHLWorkflowsOf(ctx context.Context, accountID, locationID string, ghlIDs []string) (map[string]GHLWorkflow, error) {
	if err := q.checkLocation(ctx, accountID, locationID); err != nil {
		return nil, fmt.Errorf("GHL workflows of ids: %w", err)
	}
	out := make(map[string]GHLWorkflow, len(ghlIDs))
	for chunk := range slices.Chunk(ghlIDs, ghlBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, locationID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT ` + ghlWorkflowColumns + ` FROM ` + ghlWorkflowFrom + `
WHERE g.location_id = ? AND g.ghl_workflow_id IN ` + placeholders(1, len(chunk))
		var rows []ghlWorkflowRow
		if err := q.list(ctx, famGHLWorkflowsOf, &rows, query, args...); err != nil {
			return nil, fmt.Errorf("GHL workflows of ids: %w", err)
		}
		for _, r := range rows {
			out[r.GHLWorkflowID] = r.workflow()
		}
	}
	return out, nil
}

// GHLWorkflowsByStoredID is GHLWorkflowsOf keyed by the stored workflows' own ids ("wfl_..."), for
// the views that name workflows that way (an analysis's per-workflow results). A workflow GHL never
// listed is absent.
func (q *queries) GHLWorkflowsByStoredID(ctx context.Context, accountID, locationID string, workflowIDs []string) (map[string]GHLWorkflow, error) {
	if err := q.checkLocation(ctx, accountID, locationID); err != nil {
		return nil, fmt.Errorf("GHL workflows of stored ids: %w", err)
	}
	out := make(map[string]GHLWorkflow, len(workflowIDs))
	for chunk := range slices.Chunk(workflowIDs, ghlBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, locationID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := `SELECT ` + ghlWorkflowColumns + ` FROM ` + ghlWorkflowFrom + `
WHERE g.location_id = ? AND w.id IN ` + placeholders(1, len(chunk))
		var rows []ghlWorkflowRow
		if err := q.list(ctx, famGHLWorkflowsOf, &rows, query, args...); err != nil {
			return nil, fmt.Errorf("GHL workflows of stored ids: %w", err)
		}
		for _, r := range rows {
			out[*r.WorkflowID] = r.workflow()
		}
	}
	return out, nil
}

// The drift history, newest version first, served by the primary key read backwards.
const (
	queryGHLVersionsFirst = `SELECT version, seen_at FROM ghl_workflow_versions
WHERE location_id = ? AND ghl_workflow_id = ?
ORDER BY version DESC
LIMIT ?`
	queryGHLVersionsNext = `SELECT version, seen_at FROM ghl_workflow_versions
WHERE location_id = ? AND ghl_workflow_id = ? AND version < ?
ORDER BY version DESC
LIMIT ?`
)

// ListGHLWorkflowVersions returns a stored workflow's drift history: one page of the versions the
// syncs saw in GHL, newest version first, beside the imported version, and the cursor of the next
// page ("" after the last). A workflow never synced has no versions. It returns ErrNotFound when
// the location has no such workflow or the account has no such location, ErrInvalidCursor for a
// cursor that ListGHLWorkflowVersions did not return and ErrInvalid for a limit out of range.
func (q *queries) ListGHLWorkflowVersions(ctx context.Context, accountID, locationID, workflowID string, p Page) (GHLVersionHistory, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return GHLVersionHistory{}, "", fmt.Errorf("list GHL workflow versions: %w", err)
	}
	before := -1
	if p.Cursor != "" {
		before, err = strconv.Atoi(strings.TrimPrefix(p.Cursor, "v"))
		if err != nil || before < 0 || "v"+strconv.Itoa(before) != p.Cursor {
			return GHLVersionHistory{}, "", fmt.Errorf("list GHL workflow versions: %w", ErrInvalidCursor)
		}
	}
	const head = `SELECT w.id, w.ghl_workflow_id, w.ghl_version FROM workflows w JOIN locations l ON l.id = w.location_id
WHERE w.id = ? AND w.location_id = ? AND l.account_id = ?`
	var w struct {
		ID            string `db:"id"`
		GHLWorkflowID string `db:"ghl_workflow_id"`
		GHLVersion    int    `db:"ghl_version"`
	}
	if err := q.get(ctx, famGHLVersionsList, &w, head, workflowID, locationID, accountID); err != nil {
		return GHLVersionHistory{}, "", fmt.Errorf("list GHL workflow versions: %w", err)
	}
	h := GHLVersionHistory{WorkflowID: w.ID, GHLWorkflowID: w.GHLWorkflowID, ImportedVersion: w.GHLVersion}
	byID, err := q.GHLWorkflowsOf(ctx, accountID, locationID, []string{w.GHLWorkflowID})
	if err != nil {
		return GHLVersionHistory{}, "", fmt.Errorf("list GHL workflow versions: %w", err)
	}
	h.Stale = byID[w.GHLWorkflowID].Stale
	query, args := queryGHLVersionsFirst, []any{locationID, w.GHLWorkflowID, limit + 1}
	if before >= 0 {
		query, args = queryGHLVersionsNext, []any{locationID, w.GHLWorkflowID, before, limit + 1}
	}
	var rows []struct {
		Version int       `db:"version"`
		SeenAt  time.Time `db:"seen_at"`
	}
	if err := q.list(ctx, famGHLVersionsList, &rows, query, args...); err != nil {
		return GHLVersionHistory{}, "", fmt.Errorf("list GHL workflow versions: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = "v" + strconv.Itoa(rows[limit-1].Version)
	}
	h.Versions = make([]GHLVersion, len(rows))
	for i, r := range rows {
		h.Versions[i] = GHLVersion{Version: r.Version, SeenAt: r.SeenAt.UTC()}
	}
	return h, next, nil
}
