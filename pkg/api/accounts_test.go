package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// patchAccount is the request that sends body to PATCH /internal/accounts/{id} with key.
func patchAccount(key, id, body string) request {
	return request{method: http.MethodPatch, path: "/internal/accounts/" + id, key: key, body: body}
}

// mustPatchAccount sends body to PATCH /internal/accounts/{id} as admin and returns the 200 answer.
func (e *testEnv) mustPatchAccount(tb testing.TB, admin, id, body string) gen.AccountLimits {
	tb.Helper()
	return mustJSON[gen.AccountLimits](tb, e.call(tb, patchAccount(admin, id, body)), http.StatusOK)
}

// mustStoredAccount reads the account from the store.
func (e *testEnv) mustStoredAccount(tb testing.TB, id string) store.Account {
	tb.Helper()
	acc, err := e.db.GetAccount(context.Background(), id)
	require.NoError(tb, err)
	return acc
}

// limited and unlimited build the expected limits in force.
func limited(n int32, source gen.LimitInForceSource) gen.LimitInForce {
	return gen.LimitInForce{Limit: &n, Source: source}
}

func lifted() gen.LimitInForce {
	return gen.LimitInForce{Unlimited: true, Source: gen.LimitInForceSourceAccount}
}

const (
	fromTier    = gen.LimitInForceSourceTier
	fromAccount = gen.LimitInForceSourceAccount
)

// callUnlimited sends r like call and requires a response the spec documents, but one that carries
// none of the rate-limit headers, as the responses to an unlimited account must.
func (e *testEnv) callUnlimited(tb testing.TB, r request) *httptest.ResponseRecorder {
	tb.Helper()
	rec := e.do(tb, r)
	mustMatchSpec(tb, r, rec)
	mustNoRateLimitHeaders(tb, rec)
	return rec
}

func TestUpdateAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)
		admin := env.mustAdmin(t)

		t.Run("patch-200", func(t *testing.T) {
			acc, _ := env.mustAccount(t, "Target", store.TierFree)
			// Each step applies to the account as the previous ones left it.
			steps := []struct {
				name      string
				body      string
				tier      gen.Tier
				requests  gen.LimitInForce
				analyses  gen.LimitInForce
				storedRPM *int
				storedAPH *int
			}{
				{name: "tier", body: `{"tier":"pro"}`, tier: gen.TierPro,
					requests: limited(100, fromTier), analyses: limited(100, fromTier)},
				{name: "override", body: `{"requestsPerMinute":300}`, tier: gen.TierPro,
					requests: limited(300, fromAccount), analyses: limited(100, fromTier), storedRPM: new(300)},
				{name: "unlimited, the absent member kept", body: `{"analysesPerHour":"unlimited"}`, tier: gen.TierPro,
					requests: limited(300, fromAccount), analyses: lifted(), storedRPM: new(300), storedAPH: new(store.Unlimited)},
				{name: "tier change keeps the own limits", body: `{"tier":"enterprise"}`, tier: gen.TierEnterprise,
					requests: limited(300, fromAccount), analyses: lifted(), storedRPM: new(300), storedAPH: new(store.Unlimited)},
				{name: "clear with null", body: `{"requestsPerMinute":null}`, tier: gen.TierEnterprise,
					requests: limited(500, fromTier), analyses: lifted(), storedAPH: new(store.Unlimited)},
				{name: "clear with tier", body: `{"analysesPerHour":"tier"}`, tier: gen.TierEnterprise,
					requests: limited(500, fromTier), analyses: limited(1000, fromTier)},
				{name: "all at once, at the bounds", body: `{"tier":"free","requestsPerMinute":1000000,"analysesPerHour":1}`, tier: gen.TierFree,
					requests: limited(1000000, fromAccount), analyses: limited(1, fromAccount), storedRPM: new(1000000), storedAPH: new(1)},
				{name: "an exponent is a whole number too", body: `{"requestsPerMinute":3e2}`, tier: gen.TierFree,
					requests: limited(300, fromAccount), analyses: limited(1, fromAccount), storedRPM: new(300), storedAPH: new(1)},
				{name: "both back to the tier", body: `{"requestsPerMinute":"tier","analysesPerHour":null}`, tier: gen.TierFree,
					requests: limited(20, fromTier), analyses: limited(10, fromTier)},
			}
			for _, step := range steps {
				got := env.mustPatchAccount(t, admin, acc.ID, step.body)
				want := gen.AccountLimits{
					Account: gen.Account{Id: acc.ID, Name: acc.Name, Tier: step.tier, IsAdmin: false, CreatedAt: acc.CreatedAt},
					Limits:  gen.LimitsInForce{RequestsPerMinute: step.requests, AnalysesPerHour: step.analyses},
				}
				got.Account = withUTC(got.Account)
				require.Equal(t, want, got, step.name)
				stored := env.mustStoredAccount(t, acc.ID)
				require.Equal(t, store.Tier(step.tier), stored.Tier, step.name)
				require.Equal(t, step.storedRPM, stored.RequestsPerMinute, step.name)
				require.Equal(t, step.storedAPH, stored.AnalysesPerHour, step.name)
			}
		})

		t.Run("patch-200/gzip body", func(t *testing.T) {
			acc, _ := env.mustAccount(t, "Compressed", store.TierFree)
			body := mustGzip(t, []byte(`{"requestsPerMinute":null,"analysesPerHour":7}`))
			rec := env.call(t, request{method: http.MethodPatch, path: "/internal/accounts/" + acc.ID, key: admin, body: body,
				headers: map[string]string{"Content-Encoding": "gzip"}})
			got := mustJSON[gen.AccountLimits](t, rec, http.StatusOK)
			require.Equal(t, limited(7, fromAccount), got.Limits.AnalysesPerHour)
			require.Equal(t, limited(20, fromTier), got.Limits.RequestsPerMinute)
		})

		t.Run("patch-400", func(t *testing.T) {
			acc, _ := env.mustAccount(t, "Unchanged", store.TierPro)
			before := env.mustStoredAccount(t, acc.ID)
			tests := []struct {
				name string
				body string
			}{
				{name: "zero", body: `{"requestsPerMinute":0}`},
				{name: "negative", body: `{"analysesPerHour":-5}`},
				{name: "minus one is not how unlimited is spelled", body: `{"analysesPerHour":-1}`},
				{name: "too large", body: `{"requestsPerMinute":2000000}`},
				{name: "a fraction", body: `{"requestsPerMinute":2.5}`},
				{name: "an unknown word", body: `{"requestsPerMinute":"lots"}`},
				{name: "a number as a string", body: `{"requestsPerMinute":"300"}`},
				{name: "unknown tier", body: `{"tier":"gold"}`},
				{name: "null tier", body: `{"tier":null}`},
				{name: "unknown field", body: `{"tier":"pro","requestsPerHour":5}`},
				{name: "empty object", body: `{}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rec := env.call(t, patchAccount(admin, acc.ID, tt.body))
					p := mustProblem(t, rec, http.StatusBadRequest, "validation-error")
					require.NotNil(t, p.InvalidFields)
					require.NotEmpty(t, *p.InvalidFields)
					require.Equal(t, before, env.mustStoredAccount(t, acc.ID), "nothing changed")
				})
			}
			t.Run("malformed json", func(t *testing.T) {
				mustProblem(t, env.call(t, patchAccount(admin, acc.ID, `{"tier":`)), http.StatusBadRequest, "malformed-json")
			})
			t.Run("malformed account id", func(t *testing.T) {
				rec := env.call(t, patchAccount(admin, "acc_NOT-AN-ID", `{"tier":"pro"}`))
				mustInvalidFields(t, rec, field("accountId", pathLoc))
			})
		})

		t.Run("patch-401", func(t *testing.T) {
			acc, _ := env.mustAccount(t, "Anonymous target", store.TierFree)
			mustProblem(t, env.call(t, patchAccount("", acc.ID, `{"tier":"pro"}`)), http.StatusUnauthorized, "unauthorized")
			require.Equal(t, store.TierFree, env.mustStoredAccount(t, acc.ID).Tier)
		})

		t.Run("patch-403", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Ambitious", store.TierFree)
			other, _ := env.mustAccount(t, "Neighbour", store.TierFree)
			for _, target := range []string{acc.ID, other.ID} {
				rec := env.call(t, patchAccount(key, target, `{"tier":"enterprise","requestsPerMinute":"unlimited"}`))
				mustProblem(t, rec, http.StatusForbidden, "forbidden")
			}
			require.Equal(t, store.TierFree, env.mustStoredAccount(t, acc.ID).Tier, "not even its own account")
			require.Nil(t, env.mustStoredAccount(t, acc.ID).RequestsPerMinute)
		})

		t.Run("patch-404", func(t *testing.T) {
			rec := env.call(t, patchAccount(admin, "acc_aaaaaaaaaaaaaaaaaaaa", `{"tier":"pro"}`))
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
	})
}

// TestAccountLimitsApplyToNextRequest changes an account's limits through the API while it makes
// requests, and checks that each change holds from the account's very next request.
func TestAccountLimitsApplyToNextRequest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)
		admin := env.mustAdmin(t)
		me := func(key string) request { return request{method: http.MethodGet, path: "/v1/me", key: key} }

		t.Run("requests: 429 at the override", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Throttled", store.TierFree)
			env.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":5}`)
			for i := 1; i <= 5; i++ {
				rec := env.call(t, me(key))
				require.Equal(t, http.StatusOK, rec.Code, "request %d", i)
				limit, remaining, _ := mustRateLimitHeaders(t, rec)
				require.Equal(t, 5, limit)
				require.Equal(t, 5-i, remaining)
			}
			rec := env.call(t, me(key))
			p := mustProblem(t, rec, http.StatusTooManyRequests, "rate-limited")
			require.Contains(t, *p.Detail, "used the 5 requests per minute of its own limit")
			require.NotNil(t, p.UpgradeUrl, "a free account is shown the upgrade page")
			_, remaining, _ := mustRateLimitHeaders(t, rec)
			require.Zero(t, remaining)

			t.Run("raised, it lets the next request through", func(t *testing.T) {
				env.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":50}`)
				rec := env.call(t, me(key))
				require.Equal(t, http.StatusOK, rec.Code)
				limit, remaining, _ := mustRateLimitHeaders(t, rec)
				require.Equal(t, 50, limit)
				require.Equal(t, 50-7, remaining, "the window kept counting, the refused request included")
			})
		})

		t.Run("requests: unlimited is never refused and sends no headers", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Internal", store.TierFree)
			env.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":"unlimited"}`)
			for i := 1; i <= 30; i++ {
				rec := env.callUnlimited(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
				require.Equal(t, http.StatusOK, rec.Code, "request %d", i)
			}
			got := mustJSON[gen.Me](t, env.callUnlimited(t, me(key)), http.StatusOK)
			require.Zero(t, got.Limits.RequestsPerMinute, "0 when unlimited")
			require.Equal(t, int32(10), got.Limits.AnalysesPerHour)
			require.Equal(t, gen.LimitsInForce{RequestsPerMinute: lifted(), AnalysesPerHour: limited(10, fromTier)}, got.Limits.InForce)
			require.Equal(t, int32(31), got.Usage.RequestsThisMinute, "unlimited requests are still counted")
			rec := env.callUnlimited(t, request{method: http.MethodGet, path: "/v1/locations?limit=0", key: key})
			mustInvalidFields(t, rec, field("limit", queryLoc))

			t.Run("back to the tier, the window is over its limit", func(t *testing.T) {
				env.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":"tier"}`)
				rec := env.call(t, me(key))
				mustRateLimited(t, rec, tier.Free, "requests per minute", 20, time.Minute)
			})
		})

		t.Run("analyses: 429 at the override, unlimited beyond the tier's", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Analyst", store.TierFree)
			analyse := func(steps int) request {
				return request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleOf(1, steps) + `}`}
			}
			env.mustPatchAccount(t, admin, acc.ID, `{"analysesPerHour":1}`)
			require.Equal(t, http.StatusCreated, env.call(t, analyse(1)).Code)
			rec := env.call(t, analyse(2))
			p := mustProblem(t, rec, http.StatusTooManyRequests, "rate-limited")
			require.Contains(t, *p.Detail, "used the 1 analyses per hour of its own limit")
			retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			require.NoError(t, err)
			require.Greater(t, time.Duration(retry)*time.Second, time.Hour-time.Minute, "the analyses window")
			mustProblem(t, env.call(t, analyse(2)), http.StatusTooManyRequests, "rate-limited")

			// Refused analyses were not computed, so they leave nothing used beyond the one that was.
			env.mustPatchAccount(t, admin, acc.ID, `{"analysesPerHour":2}`)
			require.Equal(t, http.StatusCreated, env.call(t, analyse(2)).Code, "the raised limit has room for exactly one more")
			mustProblem(t, env.call(t, analyse(3)), http.StatusTooManyRequests, "rate-limited")

			env.mustPatchAccount(t, admin, acc.ID, `{"analysesPerHour":"unlimited"}`)
			for steps := 3; steps <= 14; steps++ {
				rec := env.call(t, analyse(steps))
				require.Equal(t, http.StatusCreated, rec.Code, "analysis %d: %s", steps, rec.Body.String())
			}
			got := env.mustMe(t, key)
			require.Equal(t, int32(14), got.Usage.AnalysesThisHour, "unlimited analyses are still counted, refusals are not")
			require.Zero(t, got.Limits.AnalysesPerHour)
			require.Equal(t, lifted(), got.Limits.InForce.AnalysesPerHour)
		})

		t.Run("another instance sees the change on its next request", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Spread", store.TierFree)
			one, other := env.mustSharedInstances(t)
			require.Equal(t, 20, mustFirstLimit(t, other, key))
			one.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":3}`)
			// The change reaches the other instance through Redis: within a second, as promised.
			require.Eventually(t, func() bool { return mustFirstLimit(t, other, key) == 3 }, time.Second, 5*time.Millisecond)
		})
	})
}

// mustFirstLimit makes one request with key on env and returns its X-RateLimit-Limit.
func mustFirstLimit(tb testing.TB, env *testEnv, key string) int {
	tb.Helper()
	rec := env.call(tb, request{method: http.MethodGet, path: "/v1/locations", key: key})
	require.Equal(tb, http.StatusOK, rec.Code)
	limit, _, _ := mustRateLimitHeaders(tb, rec)
	return limit
}

func TestMeShowsLimitsInForce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)
		admin := env.mustAdmin(t)
		tests := []struct {
			name     string
			tier     store.Tier
			patch    string
			rpm, aph int32
			inForce  gen.LimitsInForce
		}{
			{name: "the tier's", tier: store.TierPro, rpm: 100, aph: 100,
				inForce: gen.LimitsInForce{RequestsPerMinute: limited(100, fromTier), AnalysesPerHour: limited(100, fromTier)}},
			{name: "own requests", tier: store.TierPro, patch: `{"requestsPerMinute":300}`, rpm: 300, aph: 100,
				inForce: gen.LimitsInForce{RequestsPerMinute: limited(300, fromAccount), AnalysesPerHour: limited(100, fromTier)}},
			{name: "own analyses below the tier's", tier: store.TierEnterprise, patch: `{"analysesPerHour":2}`, rpm: 500, aph: 2,
				inForce: gen.LimitsInForce{RequestsPerMinute: limited(500, fromTier), AnalysesPerHour: limited(2, fromAccount)}},
			{name: "unlimited analyses", tier: store.TierFree, patch: `{"analysesPerHour":"unlimited"}`, rpm: 20, aph: 0,
				inForce: gen.LimitsInForce{RequestsPerMinute: limited(20, fromTier), AnalysesPerHour: lifted()}},
		}
		for _, tt := range tests {
			t.Run("me-200/"+tt.name, func(t *testing.T) {
				acc, key := env.mustAccount(t, tt.name, tt.tier)
				if tt.patch != "" {
					env.mustPatchAccount(t, admin, acc.ID, tt.patch)
				}
				got := env.mustMe(t, key)
				require.Equal(t, tt.rpm, got.Limits.RequestsPerMinute)
				require.Equal(t, tt.aph, got.Limits.AnalysesPerHour)
				require.Equal(t, tt.inForce, got.Limits.InForce)
			})
		}
	})
}

// TestIETFRateLimitHeaders checks the IETF fields' exact text on an account's first requests: the
// policy names the requests budget with its quota and window, and RateLimit what remains and the
// seconds until the window ends.
func TestIETFRateLimitHeaders(t *testing.T) {
	env := mustRateLimitEnv(t, store.EngineSQLite, nil)
	admin := env.mustAdmin(t)
	acc, key := env.mustAccount(t, "Standards", store.TierPro)
	rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
	require.Equal(t, `"requests";q=100;w=60`, rec.Header().Get("RateLimit-Policy"))
	require.Regexp(t, `^"requests";r=99;t=(59|60)$`, rec.Header().Get("RateLimit"))

	env.mustPatchAccount(t, admin, acc.ID, `{"requestsPerMinute":2}`)
	rec = env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
	require.Equal(t, `"requests";q=2;w=60`, rec.Header().Get("RateLimit-Policy"))
	require.Regexp(t, `^"requests";r=0;t=(59|60)$`, rec.Header().Get("RateLimit"), "the second request of the window used the last one")
	rec = env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, `"requests";q=2;w=60`, rec.Header().Get("RateLimit-Policy"), "a 429 carries them too")
	require.Regexp(t, `^"requests";r=0;t=(59|60)$`, rec.Header().Get("RateLimit"))
}
