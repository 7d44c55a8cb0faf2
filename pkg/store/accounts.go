package store

import (
	"context"
	"fmt"
	"time"
)

// accountRow is an accounts row as the drivers scan it.
type accountRow struct {
	ID        string    `db:"id"`
	Name      string    `db:"name"`
	Tier      string    `db:"tier"`
	IsAdmin   bool      `db:"is_admin"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const accountColumns = `id, name, tier, is_admin, created_at, updated_at`

// account converts the row, normalizing times to UTC (lib/pq returns them in the session time zone).
func (r accountRow) account() Account {
	return Account{
		ID:        r.ID,
		Name:      r.Name,
		Tier:      Tier(r.Tier),
		IsAdmin:   r.IsAdmin,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// CreateAccount adds an account. It returns ErrInvalid for an unknown tier or a name that is empty or
// longer than 200 characters.
func (q *queries) CreateAccount(ctx context.Context, name string, tier Tier, isAdmin bool) (Account, error) {
	if !tier.Valid() {
		return Account{}, fmt.Errorf("create account: %w: unknown tier %q", ErrInvalid, tier)
	}
	t := q.now()
	a := Account{ID: newID(accountPrefix), Name: name, Tier: tier, IsAdmin: isAdmin, CreatedAt: t, UpdatedAt: t}
	const query = `INSERT INTO accounts (` + accountColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
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

// SetAccountTier changes an account's tier and returns the account. It returns ErrNotFound for an
// unknown account and ErrInvalid for an unknown tier.
func (q *queries) SetAccountTier(ctx context.Context, id string, tier Tier) (Account, error) {
	if !tier.Valid() {
		return Account{}, fmt.Errorf("set account tier: %w: unknown tier %q", ErrInvalid, tier)
	}
	const query = `UPDATE accounts SET tier = ?, updated_at = ? WHERE id = ? RETURNING ` + accountColumns
	var r accountRow
	if err := q.get(ctx, famAccountsSetTier, &r, query, string(tier), q.now(), id); err != nil {
		return Account{}, fmt.Errorf("set account tier: %w", err)
	}
	return r.account(), nil
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
