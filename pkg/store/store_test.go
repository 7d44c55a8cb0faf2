package store_test

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	migrations "github.com/ghl-debugger/ghl-debugger/db"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// The conformance suite: every test runs once per engine that storetest.Engines returns, each time
// on a fresh database, like river's driver suite.

// forEachEngine runs fn as a subtest per engine, with a fresh migrated database.
func forEachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, storetest.New(t, engine)) })
	}
}

var (
	accountIDPattern  = regexp.MustCompile(`^acc_[a-z2-7]{20}$`)
	apiKeyIDPattern   = regexp.MustCompile(`^key_[a-z2-7]{20}$`)
	locationIDPattern = regexp.MustCompile(`^loc_[a-z2-7]{20}$`)
)

// missingAccountID and the others are well-formed ids that no row has.
const (
	missingAccountID  = "acc_aaaaaaaaaaaaaaaaaaaa"
	missingAPIKeyID   = "key_aaaaaaaaaaaaaaaaaaaa"
	missingLocationID = "loc_aaaaaaaaaaaaaaaaaaaa"
)

func TestDB(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		require.Contains(t, []string{store.EngineSQLite, store.EnginePostgres}, db.Engine())
		require.NoError(t, db.Ping(t.Context()))
		want := 4 // storetest's pool size
		if db.Engine() == store.EngineSQLite {
			want = 1
		}
		require.Equal(t, want, db.Stats().MaxOpenConnections)
	})
}

func TestAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		n, err := db.CountAccounts(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		a, err := db.CreateAccount(ctx, "Acme Agency", store.TierPro, true)
		require.NoError(t, err)
		require.Regexp(t, accountIDPattern, a.ID)
		require.Equal(t, "Acme Agency", a.Name)
		require.Equal(t, store.TierPro, a.Tier)
		require.True(t, a.IsAdmin)
		require.Equal(t, a.CreatedAt, a.UpdatedAt)

		got, err := db.GetAccount(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)

		b := mustCreateAccount(t, db, "Beta Agency")
		require.NotEqual(t, a.ID, b.ID)
		require.False(t, b.IsAdmin)
		n, err = db.CountAccounts(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		_, err = db.GetAccount(ctx, missingAccountID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestSetAccountTier(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		a := mustCreateAccount(t, db, "Acme Agency")
		clock.advance(time.Second)

		upd, err := db.SetAccountTier(ctx, a.ID, store.TierEnterprise)
		require.NoError(t, err)
		require.Equal(t, store.TierEnterprise, upd.Tier)
		require.Equal(t, a.CreatedAt, upd.CreatedAt)
		require.Equal(t, clock.now(), upd.UpdatedAt)
		got, err := db.GetAccount(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, upd, got)

		_, err = db.SetAccountTier(ctx, missingAccountID, store.TierFree)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.SetAccountTier(ctx, a.ID, "gold")
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

func TestCreateAccountInvalid(t *testing.T) {
	tests := []struct {
		name        string
		accountName string
		tier        store.Tier
	}{
		{name: "unknown tier", accountName: "Acme", tier: "gold"},
		{name: "tier in another case", accountName: "Acme", tier: "Pro"},
		{name: "empty name", accountName: "", tier: store.TierFree},
		{name: "name too long", accountName: strings.Repeat("n", 201), tier: store.TierFree},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.CreateAccount(t.Context(), tt.accountName, tt.tier, false)
				require.ErrorIs(t, err, store.ErrInvalid)
			})
		}
		n, err := db.CountAccounts(t.Context())
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// TestAccountTierConstraint checks the schema itself, bypassing the store's own tier check.
func TestAccountTierConstraint(t *testing.T) {
	tests := []struct {
		name    string
		tier    string
		wantErr bool
	}{
		{name: "free", tier: "free"},
		{name: "pro", tier: "pro"},
		{name: "enterprise", tier: "enterprise"},
		{name: "unknown", tier: "gold", wantErr: true},
		{name: "empty", tier: "", wantErr: true},
		{name: "other case", tier: "Enterprise", wantErr: true},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		insert := db.SQL().Rebind(`INSERT INTO accounts (id, name, tier, is_admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := "acc_" + strings.ToLower(rand.Text()[:20])
				now := time.Now().UTC()
				_, err := db.SQL().ExecContext(t.Context(), insert, id, "Raw", tt.tier, false, now, now)
				if !tt.wantErr {
					require.NoError(t, err)
					a, err := db.GetAccount(t.Context(), id)
					require.NoError(t, err)
					require.Equal(t, store.Tier(tt.tier), a.Tier)
					return
				}
				require.ErrorContains(t, err, "accounts_tier_known")
				_, err = db.GetAccount(t.Context(), id)
				require.ErrorIs(t, err, store.ErrNotFound)
			})
		}
	})
}

func TestAPIKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")

		hash := randomHash(t)
		k, err := db.CreateAPIKey(ctx, acc.ID, "ci", hash, "ghld_ab12")
		require.NoError(t, err)
		require.Regexp(t, apiKeyIDPattern, k.ID)
		require.Equal(t, store.APIKey{ID: k.ID, AccountID: acc.ID, Name: "ci", Prefix: "ghld_ab12", CreatedAt: clock.now()}, k)

		gotAcc, gotKey, err := db.AuthenticateAPIKey(ctx, hash)
		require.NoError(t, err)
		require.Equal(t, acc, gotAcc)
		require.Equal(t, k.ID, gotKey.ID)
		require.Nil(t, gotKey.RevokedAt)

		_, _, err = db.AuthenticateAPIKey(ctx, randomHash(t))
		require.ErrorIs(t, err, store.ErrNotFound)

		clock.advance(time.Second)
		k2 := mustCreateAPIKey(t, db, acc.ID)
		keys, err := db.ListAPIKeys(ctx, acc.ID)
		require.NoError(t, err)
		require.Equal(t, []string{k2.ID, k.ID}, apiKeyIDs(keys), "newest first")

		otherKeys, err := db.ListAPIKeys(ctx, other.ID)
		require.NoError(t, err)
		require.NotNil(t, otherKeys)
		require.Empty(t, otherKeys)

		// Another account cannot revoke the key, and the attempt leaves it live.
		_, err = db.RevokeAPIKey(ctx, other.ID, k.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = db.AuthenticateAPIKey(ctx, hash)
		require.NoError(t, err)

		clock.advance(time.Second)
		revoked, err := db.RevokeAPIKey(ctx, acc.ID, k.ID)
		require.NoError(t, err)
		require.NotNil(t, revoked.RevokedAt)
		require.Equal(t, clock.now(), *revoked.RevokedAt)
		_, _, err = db.AuthenticateAPIKey(ctx, hash)
		require.ErrorIs(t, err, store.ErrNotFound)

		// Revoking again changes nothing.
		clock.advance(time.Second)
		again, err := db.RevokeAPIKey(ctx, acc.ID, k.ID)
		require.NoError(t, err)
		require.Equal(t, revoked, again)

		keys, err = db.ListAPIKeys(ctx, acc.ID)
		require.NoError(t, err)
		require.Equal(t, []string{k2.ID, k.ID}, apiKeyIDs(keys), "revoked keys are listed")
		require.Equal(t, revoked, keys[1])
		require.Nil(t, keys[0].RevokedAt)

		_, err = db.RevokeAPIKey(ctx, acc.ID, missingAPIKeyID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestCreateAPIKeyErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		hash := randomHash(t)
		_, err := db.CreateAPIKey(ctx, acc.ID, "ci", hash, "ghld_ab12")
		require.NoError(t, err)

		tests := []struct {
			name      string
			accountID string
			keyName   string
			hash      string
			prefix    string
			want      error
		}{
			{name: "unknown account", accountID: missingAccountID, keyName: "ci", hash: randomHash(t), prefix: "ghld_x", want: store.ErrNotFound},
			{name: "hash taken in the same account", accountID: acc.ID, keyName: "ci", hash: hash, prefix: "ghld_x", want: store.ErrConflict},
			{name: "hash taken by another account", accountID: other.ID, keyName: "ci", hash: hash, prefix: "ghld_x", want: store.ErrConflict},
			{name: "empty name", accountID: acc.ID, keyName: "", hash: randomHash(t), prefix: "ghld_x", want: store.ErrInvalid},
			{name: "short hash", accountID: acc.ID, keyName: "ci", hash: "abc", prefix: "ghld_x", want: store.ErrInvalid},
			{name: "empty prefix", accountID: acc.ID, keyName: "ci", hash: randomHash(t), prefix: "", want: store.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.CreateAPIKey(t.Context(), tt.accountID, tt.keyName, tt.hash, tt.prefix)
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, "create api key: ")
			})
		}
		keys, err := db.ListAPIKeys(ctx, other.ID)
		require.NoError(t, err)
		require.Empty(t, keys)
	})
}

func TestAPIKeyLastUsed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		hash := randomHash(t)
		k, err := db.CreateAPIKey(ctx, acc.ID, "ci", hash, "ghld_ab12")
		require.NoError(t, err)
		require.Nil(t, k.LastUsedAt)

		authenticate := func(t *testing.T) *time.Time {
			t.Helper()
			_, got, err := db.AuthenticateAPIKey(ctx, hash)
			require.NoError(t, err)
			keys, err := db.ListAPIKeys(ctx, acc.ID)
			require.NoError(t, err)
			require.Equal(t, got, keys[0], "returned and stored key differ")
			return got.LastUsedAt
		}

		clock.advance(time.Second)
		first := clock.now()
		require.Equal(t, &first, authenticate(t), "first use is recorded")

		clock.advance(59 * time.Second)
		require.Equal(t, &first, authenticate(t), "a use within a minute is not written")

		clock.advance(time.Second + time.Microsecond)
		later := clock.now()
		require.Equal(t, &later, authenticate(t), "a use after a minute is recorded")
	})
}

func TestLocations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")

		in := store.NewLocation{GHLLocationID: "ve9EPM428h8vShlRW1KT", Name: "Downtown Dental", Timezone: "America/Chicago"}
		l, err := db.CreateLocation(ctx, acc.ID, in)
		require.NoError(t, err)
		require.Regexp(t, locationIDPattern, l.ID)
		require.Equal(t, store.Location{
			ID: l.ID, AccountID: acc.ID, GHLLocationID: in.GHLLocationID, Name: in.Name, Timezone: in.Timezone,
			CreatedAt: clock.now(), UpdatedAt: clock.now(),
		}, l)
		got, err := db.GetLocation(ctx, acc.ID, l.ID)
		require.NoError(t, err)
		require.Equal(t, l, got)

		_, err = db.CreateLocation(ctx, acc.ID, store.NewLocation{GHLLocationID: in.GHLLocationID, Name: "Again"})
		require.ErrorIs(t, err, store.ErrConflict)
		require.ErrorContains(t, err, "create location: ")

		theirs, err := db.CreateLocation(ctx, other.ID, in)
		require.NoError(t, err, "another account may add the same GHL location")
		require.NotEqual(t, l.ID, theirs.ID)

		_, err = db.GetLocation(ctx, other.ID, l.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.DeleteLocation(ctx, other.ID, l.ID), store.ErrNotFound)
		got, err = db.GetLocation(ctx, acc.ID, l.ID)
		require.NoError(t, err, "another account's delete must not remove it")
		require.Equal(t, l, got)

		_, err = db.GetLocation(ctx, acc.ID, missingLocationID)
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, db.DeleteLocation(ctx, acc.ID, l.ID))
		_, err = db.GetLocation(ctx, acc.ID, l.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.DeleteLocation(ctx, acc.ID, l.ID), store.ErrNotFound)

		readded, err := db.CreateLocation(ctx, acc.ID, in)
		require.NoError(t, err, "a deleted GHL location can be added again")
		require.NotEqual(t, l.ID, readded.ID)
	})
}

func TestCreateLocationErrors(t *testing.T) {
	tests := []struct {
		name      string
		accountID string // "" means the test's account
		in        store.NewLocation
		want      error
	}{
		{name: "unknown account", accountID: missingAccountID, in: store.NewLocation{GHLLocationID: "g1", Name: "n"}, want: store.ErrNotFound},
		{name: "empty GHL id", in: store.NewLocation{GHLLocationID: "", Name: "n"}, want: store.ErrInvalid},
		{name: "GHL id too long", in: store.NewLocation{GHLLocationID: strings.Repeat("g", 65), Name: "n"}, want: store.ErrInvalid},
		{name: "empty name", in: store.NewLocation{GHLLocationID: "g1", Name: ""}, want: store.ErrInvalid},
		{name: "timezone too long", in: store.NewLocation{GHLLocationID: "g1", Name: "n", Timezone: strings.Repeat("z", 65)}, want: store.ErrInvalid},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				accountID := tt.accountID
				if accountID == "" {
					accountID = acc.ID
				}
				_, err := db.CreateLocation(t.Context(), accountID, tt.in)
				require.ErrorIs(t, err, tt.want)
			})
		}
		// The near miss: the longest values allowed, and no timezone.
		_, err := db.CreateLocation(t.Context(), acc.ID, store.NewLocation{
			GHLLocationID: strings.Repeat("g", 64), Name: strings.Repeat("é", 200),
		})
		require.NoError(t, err)
	})
}

func TestDeleteCascades(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		l1 := mustCreateLocation(t, db, acc.ID, "g1")
		l2 := mustCreateLocation(t, db, acc.ID, "g2")
		theirs := mustCreateLocation(t, db, other.ID, "g1")
		hash, theirHash := randomHash(t), randomHash(t)
		_, err := db.CreateAPIKey(ctx, acc.ID, "ci", hash, "ghld_a")
		require.NoError(t, err)
		_, err = db.CreateAPIKey(ctx, other.ID, "ci", theirHash, "ghld_b")
		require.NoError(t, err)

		// Deleting a location removes that location only.
		require.NoError(t, db.DeleteLocation(ctx, acc.ID, l1.ID))
		mustGetLocation(t, db, acc.ID, l2.ID)
		mustGetLocation(t, db, other.ID, theirs.ID)
		_, err = db.GetAccount(ctx, acc.ID)
		require.NoError(t, err)
		_, _, err = db.AuthenticateAPIKey(ctx, hash)
		require.NoError(t, err)

		// Deleting an account (no method does yet; an operator might) removes its keys and
		// locations, and nothing of another account.
		_, err = db.SQL().ExecContext(ctx, db.SQL().Rebind(`DELETE FROM accounts WHERE id = ?`), acc.ID)
		require.NoError(t, err)
		_, err = db.GetLocation(ctx, acc.ID, l2.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = db.AuthenticateAPIKey(ctx, hash)
		require.ErrorIs(t, err, store.ErrNotFound)
		keys, err := db.ListAPIKeys(ctx, acc.ID)
		require.NoError(t, err)
		require.Empty(t, keys)
		mustGetLocation(t, db, other.ID, theirs.ID)
		_, _, err = db.AuthenticateAPIKey(ctx, theirHash)
		require.NoError(t, err)
		var n int
		require.NoError(t, db.SQL().GetContext(ctx, &n, `SELECT count(*) FROM locations`))
		require.Equal(t, 1, n)
	})
}

func TestListLocationsPages(t *testing.T) {
	tests := []struct {
		name      string
		rows      int
		limit     int
		wantPages []int
	}{
		{name: "empty", rows: 0, limit: 7, wantPages: []int{0}},
		{name: "one row", rows: 1, limit: 7, wantPages: []int{1}},
		{name: "exactly one page", rows: 7, limit: 7, wantPages: []int{7}},
		{name: "exactly two pages", rows: 14, limit: 7, wantPages: []int{7, 7}},
		{name: "partial last page", rows: 15, limit: 7, wantPages: []int{7, 7, 1}},
		{name: "limit one", rows: 3, limit: 1, wantPages: []int{1, 1, 1}},
		{name: "default limit", rows: store.DefaultPageLimit + 1, limit: 0, wantPages: []int{store.DefaultPageLimit, 1}},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := mustFakeClock(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				acc := mustCreateAccount(t, db, "Acme Agency")
				want := make([]string, 0, tt.rows)
				for i := range tt.rows {
					clock.advance(time.Microsecond)
					want = append(want, mustCreateLocation(t, db, acc.ID, fmt.Sprintf("g%d", i)).ID)
				}
				slices.Reverse(want)
				got := []string{}
				var sizes []int
				p := store.Page{Limit: tt.limit}
				for {
					page, next, err := db.ListLocations(t.Context(), acc.ID, p)
					require.NoError(t, err)
					require.NotNil(t, page, "an empty page is an empty list")
					sizes = append(sizes, len(page))
					for _, l := range page {
						got = append(got, l.ID)
					}
					if next == "" {
						break
					}
					require.Less(t, len(sizes), tt.rows+1, "the walk does not end")
					p.Cursor = next
				}
				require.Equal(t, tt.wantPages, sizes)
				require.Equal(t, want, got)
			})
		}
	})
}

// TestListLocationsStable walks the pages while locations are added, with many rows sharing a
// timestamp so that the id decides their order.
func TestListLocationsStable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		var want []store.Location
		for i := range 25 {
			if i%4 == 0 {
				clock.advance(time.Millisecond)
			}
			want = append(want, mustCreateLocation(t, db, acc.ID, fmt.Sprintf("g%02d", i)))
			mustCreateLocation(t, db, other.ID, fmt.Sprintf("g%02d", i))
		}
		slices.SortFunc(want, func(a, b store.Location) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})

		var got []store.Location
		p := store.Page{Limit: 7}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "the walk does not end")
			page, next, err := db.ListLocations(ctx, acc.ID, p)
			require.NoError(t, err)
			got = append(got, page...)
			if next == "" {
				break
			}
			p.Cursor = next
			// A row added between pages is at least as new as every row listed so far, so it sorts
			// before the cursor: it must neither show up in the pages still to come nor shift them.
			mustCreateLocation(t, db, acc.ID, fmt.Sprintf("new%d", pages))
			clock.advance(time.Millisecond)
		}
		require.Equal(t, want, got)

		first, _, err := db.ListLocations(ctx, acc.ID, store.Page{Limit: 7})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(first[0].GHLLocationID, "new"), "the rows added meanwhile come first now")
	})
}

func TestListLocationsLimit(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		wantErr bool
	}{
		{name: "negative", limit: -1, wantErr: true},
		{name: "zero means default", limit: 0},
		{name: "one", limit: 1},
		{name: "max", limit: store.MaxPageLimit},
		{name: "over max", limit: store.MaxPageLimit + 1, wantErr: true},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		mustCreateLocation(t, db, acc.ID, "g1")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, next, err := db.ListLocations(t.Context(), acc.ID, store.Page{Limit: tt.limit})
				if tt.wantErr {
					require.ErrorIs(t, err, store.ErrInvalid)
					return
				}
				require.NoError(t, err)
				require.Len(t, page, 1)
				require.Empty(t, next)
			})
		}
	})
}

func TestListLocationsInvalidCursor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		l1 := mustCreateLocation(t, db, acc.ID, "g1")
		mustCreateLocation(t, db, acc.ID, "g2")
		_, valid, err := db.ListLocations(ctx, acc.ID, store.Page{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, valid)

		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		ts := l1.CreatedAt.Format(time.RFC3339Nano)
		tests := []struct {
			name   string
			cursor string
		}{
			{name: "not base64", cursor: "%%%"},
			{name: "padded", cursor: valid + "=="},
			{name: "standard alphabet", cursor: strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/"},
			{name: "garbage", cursor: enc("hello")},
			{name: "no id", cursor: enc(ts + "|")},
			{name: "no time", cursor: enc("|" + l1.ID)},
			{name: "bad time", cursor: enc("yesterday|" + l1.ID)},
			{name: "time not in UTC", cursor: enc(l1.CreatedAt.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano) + "|" + l1.ID)},
			{name: "id of another table", cursor: enc(ts + "|" + missingAPIKeyID)},
			{name: "malformed id", cursor: enc(ts + "|loc_ABC")},
			{name: "truncated", cursor: valid[:len(valid)-3]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := db.ListLocations(t.Context(), acc.ID, store.Page{Cursor: tt.cursor, Limit: 1})
				require.ErrorIs(t, err, store.ErrInvalidCursor)
			})
		}
		page, next, err := db.ListLocations(ctx, acc.ID, store.Page{Cursor: valid, Limit: 1})
		require.NoError(t, err, "the near miss: the cursor as issued")
		require.Equal(t, []string{l1.ID}, locationIDs(page))
		require.Empty(t, next)
	})
}

func TestInTx(t *testing.T) {
	errAbort := errors.New("abort")
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var committed store.Location
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			a, err := tx.CreateAccount(ctx, "Acme Agency", store.TierFree, false)
			if err != nil {
				return err
			}
			committed, err = tx.CreateLocation(ctx, a.ID, store.NewLocation{GHLLocationID: "g1", Name: "n"})
			return err
		}))
		mustGetLocation(t, db, committed.AccountID, committed.ID)

		var rolledBack store.Account
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			rolledBack, err = tx.CreateAccount(ctx, "Beta Agency", store.TierFree, false)
			require.NoError(t, err)
			return fmt.Errorf("import: %w", errAbort)
		})
		require.ErrorIs(t, err, errAbort)
		_, err = db.GetAccount(ctx, rolledBack.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		var panicked store.Account
		require.PanicsWithValue(t, "boom", func() {
			_ = db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				panicked, err = tx.CreateAccount(ctx, "Gamma Agency", store.TierFree, false)
				require.NoError(t, err)
				panic("boom")
			})
		})
		// The panic rolled back and released the connection (SQLite has only one).
		_, err = db.GetAccount(ctx, panicked.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		n, err := db.CountAccounts(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

// TestMigrate checks that migrating a migrated database changes nothing, from the same handle and
// from another one.
func TestMigrate(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			databaseURL, dataDir := storetest.DSN(t, engine)
			first := mustOpen(t, store.Config{DatabaseURL: databaseURL, DataDir: dataDir})
			require.NoError(t, first.Migrate(ctx))
			want := mustMigrationCount(t, engine)
			require.Equal(t, want, mustAppliedVersions(t, first))
			acc := mustCreateAccount(t, first, "Acme Agency")

			require.NoError(t, first.Migrate(ctx))
			second := mustOpen(t, store.Config{DatabaseURL: databaseURL, DataDir: dataDir})
			require.NoError(t, second.Migrate(ctx))
			require.Equal(t, want, mustAppliedVersions(t, second))
			got, err := second.GetAccount(ctx, acc.ID)
			require.NoError(t, err)
			require.Equal(t, acc, got)

			// The down migrations undo everything, and the up migrations then apply again.
			fsys, err := migrations.Migrations(engine)
			require.NoError(t, err)
			dialect := goose.DialectSQLite3
			if engine == store.EnginePostgres {
				dialect = goose.DialectPostgres
			}
			p, err := goose.NewProvider(dialect, second.SQL().DB, fsys)
			require.NoError(t, err)
			_, err = p.DownTo(ctx, 0)
			require.NoError(t, err)
			require.Zero(t, mustAppliedVersions(t, second))
			_, err = second.CountAccounts(ctx)
			require.Error(t, err, "the accounts table is dropped")
			require.NoError(t, second.Migrate(ctx))
			require.Equal(t, want, mustAppliedVersions(t, second))
		})
	}
}

// TestMigrateConcurrently starts several instances on one fresh PostgreSQL schema at once, as a
// deployment does; the advisory lock lets one migrate while the others wait.
func TestMigrateConcurrently(t *testing.T) {
	if !slices.Contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set", storetest.EnvDatabaseURL)
	}
	databaseURL, _ := storetest.DSN(t, store.EnginePostgres)
	const instances = 4
	dbs := make([]*store.DB, instances)
	for i := range dbs {
		dbs[i] = mustOpen(t, store.Config{DatabaseURL: databaseURL})
	}
	// Create goose's version table first, as an earlier release would have. The instances then race
	// on the migrations themselves; without the lock they would all apply 00001 (goose retries a
	// racing creation of its version table on its own, which would hide the race).
	fsys, err := migrations.Migrations(store.EnginePostgres)
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectPostgres, dbs[0].SQL().DB, fsys)
	require.NoError(t, err)
	version, err := p.GetDBVersion(t.Context())
	require.NoError(t, err)
	require.Zero(t, version)

	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "instance %d", i)
	}
	require.Equal(t, mustMigrationCount(t, store.EnginePostgres), mustAppliedVersions(t, dbs[0]))
}

// TestTimesUTC checks that times come back in UTC at microsecond precision, whatever the PostgreSQL
// session's time zone, and that SQLite stores them as sortable UTC text.
func TestTimesUTC(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			databaseURL, dataDir := storetest.DSN(t, engine)
			if engine == store.EnginePostgres {
				databaseURL += "&timezone=Asia/Kolkata"
			}
			db := mustOpen(t, store.Config{DatabaseURL: databaseURL, DataDir: dataDir})
			require.NoError(t, db.Migrate(ctx))
			at := time.Date(2026, 11, 25, 11, 34, 56, 123456789, time.FixedZone("UTC+5", 5*3600))
			store.SetClock(db, func() time.Time { return at })
			want := time.Date(2026, 11, 25, 6, 34, 56, 123456000, time.UTC)

			acc := mustCreateAccount(t, db, "Acme Agency")
			l := mustCreateLocation(t, db, acc.ID, "g1")
			require.Equal(t, want, l.CreatedAt)

			got := mustGetLocation(t, db, acc.ID, l.ID)
			require.Equal(t, time.UTC, got.CreatedAt.Location())
			require.Equal(t, time.UTC, got.UpdatedAt.Location())
			require.Equal(t, want, got.CreatedAt)
			gotAcc, err := db.GetAccount(ctx, acc.ID)
			require.NoError(t, err)
			require.Equal(t, want, gotAcc.CreatedAt)

			switch engine {
			case store.EnginePostgres:
				var tz string
				require.NoError(t, db.SQL().GetContext(ctx, &tz, `SHOW TimeZone`))
				require.Equal(t, "Asia/Kolkata", tz, "the session must not be in UTC for this test to mean something")
			case store.EngineSQLite:
				var stored string
				require.NoError(t, db.SQL().GetContext(ctx, &stored, `SELECT created_at || '' FROM locations`))
				require.Equal(t, "2026-11-25 06:34:56.123456+00:00", stored)
			}
		})
	}
}

// TestSchemaDropped checks that storetest drops a test's PostgreSQL schema when the test ends.
func TestSchemaDropped(t *testing.T) {
	if !slices.Contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set", storetest.EnvDatabaseURL)
	}
	var schema string
	t.Run("test", func(t *testing.T) {
		db := storetest.New(t, store.EnginePostgres)
		require.NoError(t, db.SQL().GetContext(t.Context(), &schema, `SELECT current_schema()`))
		mustCreateAccount(t, db, "Acme Agency")
	})
	require.Regexp(t, `^t_[a-z2-7]{16}$`, schema)
	admin, err := sql.Open("postgres", os.Getenv(storetest.EnvDatabaseURL))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, admin.Close()) })
	var exists bool
	require.NoError(t, admin.QueryRowContext(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists))
	require.False(t, exists, "schema %s is left over", schema)
}

// TestQueryPlans checks that the hot queries use their indexes once the tables hold enough rows for
// the planner to prefer them.
func TestQueryPlans(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		hash := randomHash(t)
		var big store.Account
		// Enough accounts that a sequential scan of accounts costs more than a primary key lookup,
		// and one account with many locations so that its pages come from an ordered index scan.
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 1000 {
				a, err := tx.CreateAccount(ctx, fmt.Sprintf("Agency %d", i), store.TierFree, false)
				if err != nil {
					return err
				}
				for j := range 2 {
					if _, err := tx.CreateAPIKey(ctx, a.ID, "ci", randomHash(t), "ghld_x"); err != nil {
						return err
					}
					if _, err := tx.CreateLocation(ctx, a.ID, store.NewLocation{GHLLocationID: fmt.Sprintf("g%d", j), Name: "n"}); err != nil {
						return err
					}
				}
				if i == 500 {
					big = a
					if _, err := tx.CreateAPIKey(ctx, a.ID, "ci", hash, "ghld_x"); err != nil {
						return err
					}
					for j := range 300 {
						if _, err := tx.CreateLocation(ctx, a.ID, store.NewLocation{GHLLocationID: fmt.Sprintf("big%d", j), Name: "n"}); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}))
		_, err := db.SQL().ExecContext(ctx, `ANALYZE`)
		require.NoError(t, err)
		page, next, err := db.ListLocations(ctx, big.ID, store.Page{Limit: 50})
		require.NoError(t, err)
		require.Len(t, page, 50)
		last := page[len(page)-1]

		tests := []struct {
			name    string
			query   string
			args    []any
			index   string
			ordered bool // the query has ORDER BY, which the index must serve
		}{
			{name: "key by hash", query: store.QueryAPIKeyByHash, args: []any{hash}, index: "api_keys_hash_uq"},
			{name: "locations first page", query: store.QueryLocationsFirstPage, args: []any{big.ID, 51}, index: "locations_account_created_idx", ordered: true},
			{name: "locations next page", query: store.QueryLocationsNextPage, args: []any{big.ID, last.CreatedAt, last.ID, 51}, index: "locations_account_created_idx", ordered: true},
		}
		require.NotEmpty(t, next)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				plan := mustExplain(t, db, tt.query, tt.args...)
				t.Logf("plan:\n%s", plan)
				switch db.Engine() {
				case store.EnginePostgres:
					require.Contains(t, plan, "Index Scan using "+tt.index+" on ", plan)
					require.NotContains(t, plan, "Seq Scan", plan)
					if tt.ordered {
						require.NotContains(t, plan, "Sort", plan)
					}
				case store.EngineSQLite:
					require.Regexp(t, `(?m)^SEARCH \w+ USING (COVERING )?INDEX `+tt.index+` \(`, plan, plan)
					require.NotRegexp(t, `(?m)^SCAN `, plan, plan)
					if tt.ordered {
						require.NotContains(t, plan, "TEMP B-TREE", plan)
					}
				}
			})
		}
	})
}

// TestOpen checks how the configuration picks and sets up the engine. It needs no server.
func TestOpen(t *testing.T) {
	t.Run("data dir is created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nested", "data")
		db := mustOpen(t, store.Config{DataDir: dir})
		require.Equal(t, store.EngineSQLite, db.Engine())
		require.FileExists(t, filepath.Join(dir, "ghl-debugger.db"))
	})
	t.Run("relative paths", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		db := mustOpen(t, store.Config{DataDir: "data"})
		require.NoError(t, db.Migrate(t.Context()))
		require.FileExists(t, filepath.Join(dir, "data", "ghl-debugger.db"))
		db = mustOpen(t, store.Config{DatabaseURL: "sqlite://other/x.db?_pragma=cache_size(-4000)", DataDir: "ignored"})
		require.NoError(t, db.Migrate(t.Context()))
		require.FileExists(t, filepath.Join(dir, "other", "x.db"), "the directory of a sqlite:// path is created")
	})
	t.Run("sqlite URL", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		db := mustOpen(t, store.Config{DatabaseURL: "sqlite://" + path, DataDir: "ignored"})
		require.Equal(t, store.EngineSQLite, db.Engine())
		require.FileExists(t, path)
	})
	t.Run("file URL cannot turn off what the store needs", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		db := mustOpen(t, store.Config{DatabaseURL: "file:" + path + "?_pragma=foreign_keys(0)&_pragma=journal_mode(DELETE)&_pragma=cache_size(-4000)"})
		ctx := t.Context()
		var fk, cache int
		var journal string
		require.NoError(t, db.SQL().GetContext(ctx, &fk, `PRAGMA foreign_keys`))
		require.NoError(t, db.SQL().GetContext(ctx, &journal, `PRAGMA journal_mode`))
		require.NoError(t, db.SQL().GetContext(ctx, &cache, `PRAGMA cache_size`))
		require.Equal(t, 1, fk)
		require.Equal(t, "wal", journal)
		require.Equal(t, -4000, cache, "the caller's other pragmas are kept")
		require.NoError(t, db.Migrate(ctx))
		_, err := db.CreateLocation(ctx, missingAccountID, store.NewLocation{GHLLocationID: "g1", Name: "n"})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
	t.Run("sqlite pragmas", func(t *testing.T) {
		db := mustOpen(t, store.Config{DataDir: t.TempDir()})
		var busy int
		require.NoError(t, db.SQL().GetContext(t.Context(), &busy, `PRAGMA busy_timeout`))
		require.Equal(t, 5000, busy, "the default statement timeout")
		db = mustOpen(t, store.Config{DataDir: t.TempDir(), StatementTimeout: 1500 * time.Millisecond})
		require.NoError(t, db.SQL().GetContext(t.Context(), &busy, `PRAGMA busy_timeout`))
		require.Equal(t, 1500, busy, "the statement timeout is the busy timeout")
		db = mustOpen(t, store.Config{DatabaseURL: "file:" + filepath.Join(t.TempDir(), "x.db") + "?_pragma=busy_timeout(60000)", StatementTimeout: time.Second})
		require.NoError(t, db.SQL().GetContext(t.Context(), &busy, `PRAGMA busy_timeout`))
		require.Equal(t, 1000, busy, "a URL cannot override it")
	})

	tests := []struct {
		name    string
		cfg     store.Config
		wantErr string
	}{
		{name: "nothing configured", cfg: store.Config{}, wantErr: "neither a database URL nor a data directory"},
		{name: "unknown scheme", cfg: store.Config{DatabaseURL: "mysql://root@localhost/x"}, wantErr: `scheme "mysql" is not supported`},
		{name: "sqlite URL without path", cfg: store.Config{DatabaseURL: "sqlite://"}, wantErr: "no path"},
		{name: "postgres not answering", cfg: store.Config{DatabaseURL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}, wantErr: "open postgres database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(t.Context(), tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, db)
		})
	}
}

// fakeClock is a settable clock for the store.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustFakeClock makes db's clock stand still at a fixed time until advanced.
func mustFakeClock(tb testing.TB, db *store.DB) *fakeClock {
	tb.Helper()
	c := &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	store.SetClock(db, c.now)
	return c
}

func mustOpen(tb testing.TB, cfg store.Config) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

func mustCreateAccount(tb testing.TB, db *store.DB, name string) store.Account {
	tb.Helper()
	a, err := db.CreateAccount(tb.Context(), name, store.TierFree, false)
	require.NoError(tb, err)
	return a
}

func mustCreateAPIKey(tb testing.TB, db *store.DB, accountID string) store.APIKey {
	tb.Helper()
	k, err := db.CreateAPIKey(tb.Context(), accountID, "ci", randomHash(tb), "ghld_x")
	require.NoError(tb, err)
	return k
}

func mustCreateLocation(tb testing.TB, db *store.DB, accountID, ghlID string) store.Location {
	tb.Helper()
	l, err := db.CreateLocation(tb.Context(), accountID, store.NewLocation{GHLLocationID: ghlID, Name: "Location " + ghlID})
	require.NoError(tb, err)
	return l
}

func mustGetLocation(tb testing.TB, db *store.DB, accountID, id string) store.Location {
	tb.Helper()
	l, err := db.GetLocation(tb.Context(), accountID, id)
	require.NoError(tb, err)
	return l
}

// randomHash returns a hash as the API would store it: SHA-256 of a random secret, in hex.
func randomHash(tb testing.TB) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(rand.Text()))
	return hex.EncodeToString(sum[:])
}

// mustMigrationCount returns the number of migration files for engine.
func mustMigrationCount(tb testing.TB, engine string) int {
	tb.Helper()
	fsys, err := migrations.Migrations(engine)
	require.NoError(tb, err)
	files, err := fs.Glob(fsys, "*.sql")
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	return len(files)
}

// mustAppliedVersions returns the number of migrations goose has recorded as applied, failing if
// any was recorded twice.
func mustAppliedVersions(tb testing.TB, db *store.DB) int {
	tb.Helper()
	var rows, distinct int
	row := db.SQL().QueryRowxContext(tb.Context(), `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`)
	require.NoError(tb, row.Scan(&rows, &distinct))
	require.Equal(tb, distinct, rows, "a migration was recorded twice")
	return rows
}

// mustExplain returns the plan of query, one node per line: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN
// on SQLite.
func mustExplain(tb testing.TB, db *store.DB, query string, args ...any) string {
	tb.Helper()
	var lines []string
	switch db.Engine() {
	case store.EnginePostgres:
		require.NoError(tb, db.SQL().SelectContext(tb.Context(), &lines, "EXPLAIN "+store.Rebind(db, query), args...))
	case store.EngineSQLite:
		rows, err := db.SQL().QueryContext(tb.Context(), "EXPLAIN QUERY PLAN "+store.Rebind(db, query), args...)
		require.NoError(tb, err)
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(tb, rows.Scan(&id, &parent, &unused, &detail))
			lines = append(lines, detail)
		}
		require.NoError(tb, rows.Err())
	}
	return strings.Join(lines, "\n")
}

func apiKeyIDs(keys []store.APIKey) []string {
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func locationIDs(locs []store.Location) []string {
	ids := make([]string, 0, len(locs))
	for _, l := range locs {
		ids = append(ids, l.ID)
	}
	return ids
}
