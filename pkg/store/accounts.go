package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The values of an account's own limit (Account.RequestsPerMinute, Account.AnalysesPerHour), as the
// accounts table's CHECK constraints allow them.
const (
	// Unlimited is the own limit of an account that is not limited at all.
	Unlimited = -1
	// MaxOwnLimit is the largest number an own limit may be; the smallest is 1.
	MaxOwnLimit = 1_000_000
)

// accountRow is an accounts row as the drivers scan it.
type accountRow struct {
	ID                string        `db:"id"`
	Name              string        `db:"name"`
	Tier              string        `db:"tier"`
	IsAdmin           bool          `db:"is_admin"`
	RequestsPerMinute sql.NullInt64 `db:"requests_per_minute"`
	AnalysesPerHour   sql.NullInt64 `db:"analyses_per_hour"`
	CreatedAt         time.Time     `db:"created_at"`
	UpdatedAt         time.Time     `db:"updated_at"`
}

// accountColumns are the columns an accountRow scans, in the order CreateAccount inserts them.
const accountColumns = `id, name, tier, is_admin, requests_per_minute, analyses_per_hour, created_at, updated_at`

// account converts the row, normalizing times to UTC (lib/pq returns them in the session time zone).
func (r accountRow) account() Account {
	return Account{
		ID:                r.ID,
		Name:              r.Name,
		Tier:              Tier(r.Tier),
		IsAdmin:           r.IsAdmin,
		RequestsPerMinute: ownLimit(r.RequestsPerMinute),
		AnalysesPerHour:   ownLimit(r.AnalysesPerHour),
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
}

// ownLimit converts an own-limit column: NULL is no own limit.
func ownLimit(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

// validOwnLimit reports whether v may be an account's own limit.
func validOwnLimit(v int) bool {
	return v == Unlimited || (v >= 1 && v <= MaxOwnLimit)
}

// CreateAccount adds an account. It returns ErrInvalid for an unknown tier or a name that is empty or
// longer than 200 characters.
func (q *queries) CreateAccount(ctx context.Context, name string, tier Tier, isAdmin bool) (Account, error) {
	if !tier.Valid() {
		return Account{}, fmt.Errorf("create account: %w: unknown tier %q", ErrInvalid, tier)
	}
	t := q.now()
	a := Account{ID: newID(accountPrefix), Name: name, Tier: tier, IsAdmin: isAdmin, CreatedAt: t, UpdatedAt: t}
	// A new account has no limits of its own: the columns take their NULL default.
	const query = `INSERT INTO accounts (id, name, tier, is_admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`
	if _, err := q.exec(ctx, famAccountsCreate, query, a.ID, a.Name, string(a.Tier), a.IsAdmin, a.CreatedAt, a.UpdatedAt); err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// GetAccount returns the account with id, or ErrNotFound.
func (q *queries) GetAccount(ctx context.Context, id string) (Account, error) {
	const query = `SELECT ` + accountColumns + ` FROM accounts WHERE id = ?`
	var r accountRow
	if err := q.get(ctx, famAccountsGet, &r, query, id); err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	return r.account(), nil
}

// CountAccounts returns the number of accounts.
func (q *queries) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := q.get(ctx, famAccountsCount, &n, `SELECT count(*) FROM accounts`); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// AccountUpdate is what UpdateAccount changes in an account. Its zero value changes nothing.
type AccountUpdate struct {
	// Tier is the new tier; "" keeps the account's.
	Tier Tier
	// RequestsPerMinute changes the account's own requests per minute.
	RequestsPerMinute LimitUpdate
	// AnalysesPerHour changes the account's own analyses per hour.
	AnalysesPerHour LimitUpdate
}

// LimitUpdate changes one of an account's own limits: keep it, clear it (the tier's applies again)
// or set it. The zero value keeps it; ClearLimit and SetLimit make the others.
type LimitUpdate struct {
	// Change is whether the limit changes at all.
	Change bool
	// Value is the new own limit when Change is set: nil clears it, otherwise Unlimited or 1 to
	// MaxOwnLimit.
	Value *int
}

// KeepLimit leaves an own limit as it is.
func KeepLimit() LimitUpdate { return LimitUpdate{} }

// ClearLimit removes an own limit, so that the tier's applies again.
func ClearLimit() LimitUpdate { return LimitUpdate{Change: true} }

// SetLimit sets an own limit to v: Unlimited, or 1 to MaxOwnLimit.
func SetLimit(v int) LimitUpdate { return LimitUpdate{Change: true, Value: &v} }

// arg is the value to bind for the new limit: NULL clears it.
func (u LimitUpdate) arg() any {
	if u.Value == nil {
		return nil
	}
	return *u.Value
}

// queryUpdateAccount changes any of the tier and the own limits in one statement, so that its text
// is the same whatever changes: each column takes its new value when its flag is set and keeps its
// own otherwise.
const queryUpdateAccount = `UPDATE accounts SET
	tier = CASE WHEN ? THEN ? ELSE tier END,
	requests_per_minute = CASE WHEN ? THEN ? ELSE requests_per_minute END,
	analyses_per_hour = CASE WHEN ? THEN ? ELSE analyses_per_hour END,
	updated_at = ?
WHERE id = ?
RETURNING ` + accountColumns

// UpdateAccount changes an account's tier and own limits as u says, in one statement, and returns
// the account as it is then. It is the only way an account's limits change, so a cache of accounts
// (such as one in front of AuthenticateAPIKey) has one place to learn of it. An update that changes
// nothing writes nothing and returns the account as it is. It returns ErrNotFound for an unknown
// account and ErrInvalid for an unknown tier or an own limit out of range.
func (q *queries) UpdateAccount(ctx context.Context, id string, u AccountUpdate) (Account, error) {
	if u.Tier != "" && !u.Tier.Valid() {
		return Account{}, fmt.Errorf("update account: %w: unknown tier %q", ErrInvalid, u.Tier)
	}
	for _, l := range []struct {
		name   string
		update LimitUpdate
	}{{"requests per minute", u.RequestsPerMinute}, {"analyses per hour", u.AnalysesPerHour}} {
		if l.update.Value != nil && !validOwnLimit(*l.update.Value) {
			return Account{}, fmt.Errorf("update account: %w: own %s %d is neither %d (unlimited) nor 1 to %d",
				ErrInvalid, l.name, *l.update.Value, Unlimited, MaxOwnLimit)
		}
	}
	if u == (AccountUpdate{}) {
		a, err := q.GetAccount(ctx, id)
		if err != nil {
			return Account{}, fmt.Errorf("update account: %w", err)
		}
		return a, nil
	}
	var r accountRow
	err := q.get(ctx, famAccountsUpdate, &r, queryUpdateAccount,
		u.Tier != "", string(u.Tier),
		u.RequestsPerMinute.Change, u.RequestsPerMinute.arg(),
		u.AnalysesPerHour.Change, u.AnalysesPerHour.arg(),
		q.now(), id)
	if err != nil {
		return Account{}, fmt.Errorf("update account: %w", err)
	}
	return r.account(), nil
}

// SetAccountTier changes an account's tier, keeping its own limits, and returns the account. It
// returns ErrNotFound for an unknown account and ErrInvalid for an unknown tier ("" included).
func (q *queries) SetAccountTier(ctx context.Context, id string, tier Tier) (Account, error) {
	if !tier.Valid() {
		return Account{}, fmt.Errorf("set account tier: %w: unknown tier %q", ErrInvalid, tier)
	}
	a, err := q.UpdateAccount(ctx, id, AccountUpdate{Tier: tier})
	if err != nil {
		return Account{}, fmt.Errorf("set account tier: %w", err)
	}
	return a, nil
}

// CountAccountsByTier returns the number of accounts of each tier, every known tier included (0 when
// it has none).
func (q *queries) CountAccountsByTier(ctx context.Context) (map[Tier]int, error) {
	var rows []struct {
		Tier  string `db:"tier"`
		Count int    `db:"n"`
	}
	if err := q.list(ctx, famAccountsCountByTier, &rows, `SELECT tier, count(*) AS n FROM accounts GROUP BY tier`); err != nil {
		return nil, fmt.Errorf("count accounts by tier: %w", err)
	}
	counts := map[Tier]int{TierFree: 0, TierPro: 0, TierEnterprise: 0}
	for _, r := range rows {
		counts[Tier(r.Tier)] = r.Count
	}
	return counts, nil
}
