package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// ownLimit is shorthand for an account's own limit in an expected account.
func ownLimit(v int) *int { return &v }

// mustAccountWithKey creates a free account with one API key and returns them with the key's hash,
// so that the test can read the account the way every request does.
func mustAccountWithKey(tb testing.TB, db *store.DB, name string) (store.Account, string) {
	tb.Helper()
	a := mustCreateAccount(tb, db, name)
	hash := randomHash(tb)
	_, err := db.CreateAPIKey(tb.Context(), a.ID, "ci", hash, "ghd_x")
	require.NoError(tb, err)
	return a, hash
}

// mustReadAccount requires that GetAccount and AuthenticateAPIKey both read want.
func mustReadAccount(tb testing.TB, db *store.DB, hash string, want store.Account) {
	tb.Helper()
	got, err := db.GetAccount(tb.Context(), want.ID)
	require.NoError(tb, err)
	require.Equal(tb, want, got, "GetAccount")
	authed, _, err := db.AuthenticateAPIKey(tb.Context(), hash)
	require.NoError(tb, err)
	require.Equal(tb, want, authed, "AuthenticateAPIKey")
}

func TestUpdateAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := mustFakeClock(t, db)
		a, hash := mustAccountWithKey(t, db, "Acme Agency")
		other, otherHash := mustAccountWithKey(t, db, "Bystander")
		require.Nil(t, a.RequestsPerMinute, "a new account has no limits of its own")
		require.Nil(t, a.AnalysesPerHour)
		mustReadAccount(t, db, hash, a)

		// Each step applies to the account as the previous one left it.
		steps := []struct {
			name   string
			update store.AccountUpdate
			want   func(a *store.Account)
		}{
			{name: "tier only", update: store.AccountUpdate{Tier: store.TierPro},
				want: func(a *store.Account) { a.Tier = store.TierPro }},
			{name: "own requests per minute", update: store.AccountUpdate{RequestsPerMinute: store.SetLimit(300)},
				want: func(a *store.Account) { a.RequestsPerMinute = ownLimit(300) }},
			{name: "unlimited analyses, tier kept", update: store.AccountUpdate{AnalysesPerHour: store.SetLimit(store.Unlimited)},
				want: func(a *store.Account) { a.AnalysesPerHour = ownLimit(store.Unlimited) }},
			{name: "everything at once", update: store.AccountUpdate{Tier: store.TierEnterprise, RequestsPerMinute: store.SetLimit(store.MaxOwnLimit), AnalysesPerHour: store.SetLimit(1)},
				want: func(a *store.Account) {
					a.Tier, a.RequestsPerMinute, a.AnalysesPerHour = store.TierEnterprise, ownLimit(store.MaxOwnLimit), ownLimit(1)
				}},
			{name: "a tier change keeps the own limits", update: store.AccountUpdate{Tier: store.TierFree},
				want: func(a *store.Account) { a.Tier = store.TierFree }},
			{name: "clear one, keep the other", update: store.AccountUpdate{RequestsPerMinute: store.ClearLimit(), AnalysesPerHour: store.KeepLimit()},
				want: func(a *store.Account) { a.RequestsPerMinute = nil }},
			{name: "clear a limit that is already clear", update: store.AccountUpdate{RequestsPerMinute: store.ClearLimit()},
				want: func(*store.Account) {}},
			{name: "unlimited requests", update: store.AccountUpdate{RequestsPerMinute: store.SetLimit(store.Unlimited)},
				want: func(a *store.Account) { a.RequestsPerMinute = ownLimit(store.Unlimited) }},
			{name: "clear both", update: store.AccountUpdate{RequestsPerMinute: store.ClearLimit(), AnalysesPerHour: store.ClearLimit()},
				want: func(a *store.Account) { a.RequestsPerMinute, a.AnalysesPerHour = nil, nil }},
		}
		want := a
		for _, step := range steps {
			clock.advance(time.Second)
			got, err := db.UpdateAccount(t.Context(), a.ID, step.update)
			require.NoError(t, err, step.name)
			step.want(&want)
			want.UpdatedAt = clock.now()
			require.Equal(t, want, got, step.name)
			mustReadAccount(t, db, hash, want)
		}
		mustReadAccount(t, db, otherHash, other)
	})
}

func TestUpdateAccountWithNothingToChange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := mustFakeClock(t, db)
		a, hash := mustAccountWithKey(t, db, "Acme Agency")
		clock.advance(time.Second)
		var got store.Account
		counts := mustCountQueries(t, func() {
			var err error
			got, err = db.UpdateAccount(t.Context(), a.ID, store.AccountUpdate{})
			require.NoError(t, err)
		})
		require.Equal(t, a, got, "nothing changed, not even updated_at")
		require.Equal(t, map[string][2]uint64{"accounts.get": {1, 0}}, counts, "nothing was written")
		mustReadAccount(t, db, hash, a)

		_, err := db.UpdateAccount(t.Context(), missingAccountID, store.AccountUpdate{})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestUpdateAccountRefuses(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		update store.AccountUpdate
		want   error
	}{
		{name: "unknown account", id: missingAccountID, update: store.AccountUpdate{Tier: store.TierPro}, want: store.ErrNotFound},
		{name: "unknown account, limits only", id: missingAccountID, update: store.AccountUpdate{RequestsPerMinute: store.SetLimit(5)}, want: store.ErrNotFound},
		{name: "unknown tier", update: store.AccountUpdate{Tier: "gold"}, want: store.ErrInvalid},
		{name: "zero", update: store.AccountUpdate{RequestsPerMinute: store.SetLimit(0)}, want: store.ErrInvalid},
		{name: "negative", update: store.AccountUpdate{AnalysesPerHour: store.SetLimit(-5)}, want: store.ErrInvalid},
		{name: "too large", update: store.AccountUpdate{RequestsPerMinute: store.SetLimit(store.MaxOwnLimit + 1)}, want: store.ErrInvalid},
		{name: "one bad field spoils the update", update: store.AccountUpdate{Tier: store.TierPro, AnalysesPerHour: store.SetLimit(0)}, want: store.ErrInvalid},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		a, hash := mustAccountWithKey(t, db, "Acme Agency")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := tt.id
				if id == "" {
					id = a.ID
				}
				_, err := db.UpdateAccount(t.Context(), id, tt.update)
				require.ErrorIs(t, err, tt.want)
				mustReadAccount(t, db, hash, a)
			})
		}
		t.Run("SetAccountTier refuses no tier", func(t *testing.T) {
			_, err := db.SetAccountTier(t.Context(), a.ID, "")
			require.ErrorIs(t, err, store.ErrInvalid)
		})
	})
}

func TestSetAccountTierKeepsOwnLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		a, hash := mustAccountWithKey(t, db, "Acme Agency")
		a, err := db.UpdateAccount(t.Context(), a.ID, store.AccountUpdate{RequestsPerMinute: store.SetLimit(42)})
		require.NoError(t, err)
		got, err := db.SetAccountTier(t.Context(), a.ID, store.TierPro)
		require.NoError(t, err)
		require.Equal(t, store.TierPro, got.Tier)
		require.Equal(t, ownLimit(42), got.RequestsPerMinute)
		mustReadAccount(t, db, hash, got)
	})
}

// TestOwnLimitConstraints checks that the database itself refuses an own limit out of range, for a
// row written by hand or by a release that forgot the check.
func TestOwnLimitConstraints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		a := mustCreateAccount(t, db, "Acme Agency")
		for _, column := range []string{"requests_per_minute", "analyses_per_hour"} {
			for _, tt := range []struct {
				value any
				ok    bool
			}{
				{value: nil, ok: true},
				{value: -1, ok: true},
				{value: 1, ok: true},
				{value: 1000000, ok: true},
				{value: 0, ok: false},
				{value: -2, ok: false},
				{value: 1000001, ok: false},
			} {
				t.Run(fmt.Sprintf("%s=%v", column, tt.value), func(t *testing.T) {
					_, err := db.SQL().ExecContext(t.Context(), db.SQL().Rebind(`UPDATE accounts SET `+column+` = ? WHERE id = ?`), tt.value, a.ID)
					if tt.ok {
						require.NoError(t, err)
					} else {
						require.Error(t, err)
					}
				})
			}
		}
		if db.Engine() == store.EngineSQLite {
			t.Run("SQLite keeps no fraction", func(t *testing.T) {
				_, err := db.SQL().ExecContext(t.Context(), `UPDATE accounts SET requests_per_minute = 2.5 WHERE id = ?`, a.ID)
				require.Error(t, err)
			})
		}
	})
}

func TestUpdateAccountQueryFamily(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		a := mustCreateAccount(t, db, "Acme Agency")
		counts := mustCountQueries(t, func() {
			_, err := db.UpdateAccount(t.Context(), a.ID, store.AccountUpdate{Tier: store.TierPro, RequestsPerMinute: store.SetLimit(7)})
			require.NoError(t, err)
			_, err = db.UpdateAccount(t.Context(), missingAccountID, store.AccountUpdate{Tier: store.TierPro})
			require.ErrorIs(t, err, store.ErrNotFound)
		})
		require.Equal(t, map[string][2]uint64{"accounts.update": {2, 0}}, counts, "one statement each; a missing account is no error of the database")
	})
}
