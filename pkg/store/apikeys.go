package store

import (
	"context"
	"fmt"
	"time"
)

// apiKeyRow is an api_keys row as the drivers scan it. The hash is never read back.
type apiKeyRow struct {
	ID         string     `db:"id"`
	AccountID  string     `db:"account_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

const apiKeyColumns = `id, account_id, name, prefix, created_at, last_used_at, revoked_at`

// apiKey converts the row, normalizing times to UTC.
func (r apiKeyRow) apiKey() APIKey {
	return APIKey{
		ID:         r.ID,
		AccountID:  r.AccountID,
		Name:       r.Name,
		Prefix:     r.Prefix,
		CreatedAt:  r.CreatedAt.UTC(),
		LastUsedAt: utcOrNil(r.LastUsedAt),
		RevokedAt:  utcOrNil(r.RevokedAt),
	}
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// touchInterval is how stale last_used_at may get. Writing it on every request would turn each
// authenticated read into a write; once a minute is precise enough to show when a key was last used.
const touchInterval = time.Minute

// CreateAPIKey adds a key to an account. hash is the hash of the key's secret (32..128 characters)
// and prefix its displayable start (1..32 characters). It returns ErrNotFound for an unknown account,
// ErrConflict when hash is already stored and ErrInvalid for a value out of range.
func (q *queries) CreateAPIKey(ctx context.Context, accountID, name, hash, prefix string) (APIKey, error) {
	k := APIKey{ID: newID(apiKeyPrefix), AccountID: accountID, Name: name, Prefix: prefix, CreatedAt: q.now()}
	const query = `INSERT INTO api_keys (id, account_id, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	if _, err := q.exec(ctx, famAPIKeysCreate, query, k.ID, k.AccountID, k.Name, hash, k.Prefix, k.CreatedAt); err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return k, nil
}

// authRow is the key and its account, read together by AuthenticateAPIKey.
type authRow struct {
	Account accountRow `db:"a"`
	Key     apiKeyRow  `db:"k"`
}

// queryAPIKeyByHash runs on every authenticated request; api_keys_hash_uq and the accounts primary
// key serve it.
const queryAPIKeyByHash = `SELECT
	a.id AS "a.id", a.name AS "a.name", a.tier AS "a.tier", a.is_admin AS "a.is_admin",
	a.requests_per_minute AS "a.requests_per_minute", a.analyses_per_hour AS "a.analyses_per_hour",
	a.created_at AS "a.created_at", a.updated_at AS "a.updated_at",
	k.id AS "k.id", k.account_id AS "k.account_id", k.name AS "k.name", k.prefix AS "k.prefix",
	k.created_at AS "k.created_at", k.last_used_at AS "k.last_used_at", k.revoked_at AS "k.revoked_at"
FROM api_keys k
JOIN accounts a ON a.id = k.account_id
WHERE k.hash = ? AND k.revoked_at IS NULL`

// AuthenticateAPIKey returns the live key whose secret hashes to hash, and its account. It returns
// ErrNotFound when no key has that hash or the key is revoked. It records the use in LastUsedAt, at
// most once per minute per key.
func (q *queries) AuthenticateAPIKey(ctx context.Context, hash string) (Account, APIKey, error) {
	var r authRow
	if err := q.get(ctx, famAPIKeysAuthenticate, &r, queryAPIKeyByHash, hash); err != nil {
		return Account{}, APIKey{}, fmt.Errorf("authenticate api key: %w", err)
	}
	a, k := r.Account.account(), r.Key.apiKey()
	t := q.now()
	if k.LastUsedAt != nil && !k.LastUsedAt.Before(t.Add(-touchInterval)) {
		return a, k, nil
	}
	// The condition repeats the check above so that of several requests racing on a stale key, one
	// writes; the others keep the value they read, which is at most a minute old.
	const touch = `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`
	res, err := q.exec(ctx, famAPIKeysTouch, touch, t, k.ID, t.Add(-touchInterval))
	if err != nil {
		return Account{}, APIKey{}, fmt.Errorf("authenticate api key: record use: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		k.LastUsedAt = &t
	}
	return a, k, nil
}

// APIKeyHashes returns the secret hashes of every key of an account, revoked ones included, so that a
// cache of authentications can forget the account's keys when the account or one of its keys
// changes. An unknown account has none.
func (q *queries) APIKeyHashes(ctx context.Context, accountID string) ([]string, error) {
	var hashes []string
	if err := q.list(ctx, famAPIKeysHashes, &hashes, `SELECT hash FROM api_keys WHERE account_id = ? ORDER BY id`, accountID); err != nil {
		return nil, fmt.Errorf("api key hashes: %w", err)
	}
	return hashes, nil
}

// ListAPIKeys returns every key of an account, revoked ones included, newest first.
func (q *queries) ListAPIKeys(ctx context.Context, accountID string) ([]APIKey, error) {
	const query = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE account_id = ? ORDER BY created_at DESC, id DESC`
	var rows []apiKeyRow
	if err := q.list(ctx, famAPIKeysList, &rows, query, accountID); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	keys := make([]APIKey, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, r.apiKey())
	}
	return keys, nil
}

// RevokeAPIKey revokes an account's key and returns it; the key stops authenticating at once.
// Revoking a revoked key changes nothing and returns it as it is. It returns ErrNotFound when the
// account has no such key, including when the key belongs to another account.
func (q *queries) RevokeAPIKey(ctx context.Context, accountID, keyID string) (APIKey, error) {
	const query = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)
WHERE id = ? AND account_id = ?
RETURNING ` + apiKeyColumns
	var r apiKeyRow
	if err := q.get(ctx, famAPIKeysRevoke, &r, query, q.now(), keyID, accountID); err != nil {
		return APIKey{}, fmt.Errorf("revoke api key: %w", err)
	}
	return r.apiKey(), nil
}
