package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

func TestAPIKeyHashes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Rival Agency")
		var want []string
		for range 2 {
			k, err := apikey.New()
			require.NoError(t, err)
			created, err := db.CreateAPIKey(ctx, a.ID, "ci", k.Hash, k.Display)
			require.NoError(t, err)
			want = append(want, k.Hash)
			if len(want) == 1 {
				_, err = db.RevokeAPIKey(ctx, a.ID, created.ID)
				require.NoError(t, err)
			}
		}
		k, err := apikey.New()
		require.NoError(t, err)
		_, err = db.CreateAPIKey(ctx, other.ID, "ci", k.Hash, k.Display)
		require.NoError(t, err)

		got, err := db.APIKeyHashes(ctx, a.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, want, got, "every key of the account, revoked ones too, and no other account's")
		none, err := db.APIKeyHashes(ctx, missingAccountID)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}
