package api_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

const (
	bodyLoc  = gen.InvalidFieldLocationBody
	queryLoc = gen.InvalidFieldLocationQuery
	pathLoc  = gen.InvalidFieldLocationPath
)

func TestHealth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)

		t.Run("get-200", func(t *testing.T) {
			got := mustJSON[gen.Health](t, env.do(t, request{method: http.MethodGet, path: "/health"}), http.StatusOK)
			require.Equal(t, gen.HealthStatusOk, got.Status)
		})
		t.Run("detailed-200", func(t *testing.T) {
			got := mustJSON[gen.HealthDetailed](t, env.do(t, request{method: http.MethodGet, path: "/health/detailed"}), http.StatusOK)
			require.Equal(t, gen.HealthDetailedStatusOk, got.Status)
			require.Equal(t, "v1.2.3-test", got.Version)
			require.Equal(t, gen.DatabaseHealthEngine(engine), got.Database.Engine)
			require.True(t, got.Database.Reachable)
			require.GreaterOrEqual(t, got.Database.LatencyMs, 0.0)
			require.Positive(t, got.Memory.HeapAllocBytes)
			require.Positive(t, got.Memory.SysBytes)
			require.Positive(t, got.Memory.Goroutines)
			require.GreaterOrEqual(t, got.UptimeSeconds, 0.0)
		})
		t.Run("detailed-503", func(t *testing.T) {
			down := mustEnvWithStore(t, env.db, unreachableStore{env.db})
			got := mustJSON[gen.HealthDetailed](t, down.do(t, request{method: http.MethodGet, path: "/health/detailed"}), http.StatusServiceUnavailable)
			require.Equal(t, gen.HealthDetailedStatusUnavailable, got.Status)
			require.False(t, got.Database.Reachable)
		})
	})
}

// unreachableStore is a store whose database does not answer pings.
type unreachableStore struct{ api.Store }

func (unreachableStore) Ping(context.Context) error {
	return errors.New("dial tcp: connection refused")
}

func TestAuthentication(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		acc, key := env.mustAccount(t, "Acme", store.TierFree)
		revoked, err := apikey.New()
		require.NoError(t, err)
		k, err := env.db.CreateAPIKey(context.Background(), acc.ID, "old", revoked.Hash, revoked.Display)
		require.NoError(t, err)
		_, err = env.db.RevokeAPIKey(context.Background(), acc.ID, k.ID)
		require.NoError(t, err)
		unknown, err := apikey.New()
		require.NoError(t, err)

		tests := []struct {
			name   string
			header string
		}{
			{name: "missing", header: ""},
			{name: "not bearer", header: "Basic " + key},
			{name: "no credentials", header: "Bearer"},
			{name: "malformed key", header: "Bearer ghd_short"},
			{name: "unknown key", header: "Bearer " + unknown.Secret},
			{name: "revoked key", header: "Bearer " + revoked.Secret},
		}
		for _, tt := range tests {
			t.Run("me-401/"+tt.name, func(t *testing.T) {
				rec := env.do(t, request{method: http.MethodGet, path: "/v1/me", headers: map[string]string{"Authorization": tt.header}})
				p := mustProblem(t, rec, http.StatusUnauthorized, "unauthorized")
				require.Equal(t, `Bearer realm="ghl-debugger"`, rec.Header().Get("WWW-Authenticate"))
				require.Equal(t, "/v1/me", *p.Instance)
			})
		}
		t.Run("me-200/scheme is case-insensitive", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/me", headers: map[string]string{"Authorization": "bearer " + key}})
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
		t.Run("401 comes before validation", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", body: `{"nope":1}`})
			mustProblem(t, rec, http.StatusUnauthorized, "unauthorized")
		})
		t.Run("keys never reach the logs", func(t *testing.T) {
			require.NotContains(t, env.logs.String(), key)
			require.NotContains(t, env.logs.String(), revoked.Secret)
			require.NotContains(t, env.logs.String(), "ghd_")
		})
	})
}

func TestMe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		tests := []struct {
			name              string
			tier              store.Tier
			requestsPerMinute int32
			analysesPerHour   int32
		}{
			{name: "free", tier: store.TierFree, requestsPerMinute: 20, analysesPerHour: 10},
			{name: "pro", tier: store.TierPro, requestsPerMinute: 100, analysesPerHour: 100},
			{name: "enterprise", tier: store.TierEnterprise, requestsPerMinute: 500, analysesPerHour: 1000},
		}
		for _, tt := range tests {
			t.Run("get-200/"+tt.name, func(t *testing.T) {
				acc, key := env.mustAccount(t, "Agency "+tt.name, tt.tier)
				env.mustCreateLocation(t, key, "ghl"+tt.name+"1", "One")
				env.mustCreateLocation(t, key, "ghl"+tt.name+"2", "Two")
				got := mustJSON[gen.Me](t, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key}), http.StatusOK)
				require.Equal(t, gen.Account{
					Id: acc.ID, Name: "Agency " + tt.name, Tier: gen.Tier(tt.tier), IsAdmin: false, CreatedAt: acc.CreatedAt,
				}, withUTC(got.Account))
				require.Equal(t, gen.Limits{
					RequestsPerMinute: tt.requestsPerMinute, AnalysesPerHour: tt.analysesPerHour, MaxBodyBytes: testMaxBodyBytes,
					MaxWorkflowsPerImport: importer.DefaultMaxWorkflows, MaxStepsPerWorkflow: importer.DefaultMaxStepsPerWorkflow,
					MaxContextObjects: importer.DefaultMaxContextObjects,
					InForce: gen.LimitsInForce{
						RequestsPerMinute: gen.LimitInForce{Limit: new(tt.requestsPerMinute), Source: gen.LimitInForceSourceTier},
						AnalysesPerHour:   gen.LimitInForce{Limit: new(tt.analysesPerHour), Source: gen.LimitInForceSourceTier},
					},
				}, got.Limits)
				// Two locations created, then this request: the requests budget counted three.
				require.Equal(t, gen.Usage{Locations: 2, ActiveApiKeys: 1, RequestsThisMinute: 3, AnalysesThisHour: 0}, got.Usage)
			})
		}
		t.Run("get-200/usage counts past one page", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Big agency", store.TierEnterprise)
			for i := range store.MaxPageLimit + 3 {
				_, err := env.db.CreateLocation(context.Background(), acc.ID, store.NewLocation{GHLLocationID: fmt.Sprintf("big%d", i), Name: "L"})
				require.NoError(t, err)
			}
			got := mustJSON[gen.Me](t, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key}), http.StatusOK)
			require.Equal(t, int32(store.MaxPageLimit+3), got.Usage.Locations)
		})
	})
}

func withUTC(a gen.Account) gen.Account {
	a.CreatedAt = a.CreatedAt.UTC()
	return a
}

func TestAPIKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)

		var created gen.CreatedAPIKey
		t.Run("create-201", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/api-keys", key: key, body: `{"name":"CI pipeline"}`})
			created = mustJSON[gen.CreatedAPIKey](t, rec, http.StatusCreated)
			_, err := apikey.Parse(created.Key)
			require.NoError(t, err)
			require.Equal(t, "CI pipeline", created.Name)
			require.Equal(t, created.Key[:apikey.DisplayLength], created.Prefix)
			require.Nil(t, created.RevokedAt)
			require.NotContains(t, env.logs.String(), created.Key)
			// The new key authenticates as the same account.
			me := mustJSON[gen.Me](t, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: created.Key}), http.StatusOK)
			require.Equal(t, acc.ID, me.Account.Id)
		})
		t.Run("create-400", func(t *testing.T) {
			tests := []struct {
				name string
				body string
				want []gen.InvalidField
			}{
				{name: "missing name", body: `{}`, want: []gen.InvalidField{field("name", bodyLoc)}},
				{name: "empty name", body: `{"name":""}`, want: []gen.InvalidField{field("name", bodyLoc)}},
				{name: "wrong type", body: `{"name":42}`, want: []gen.InvalidField{field("name", bodyLoc)}},
				{name: "unknown field", body: `{"name":"x","secret":"y"}`, want: []gen.InvalidField{field("secret", bodyLoc)}},
				{name: "case variant of a known field", body: `{"name":"ok","NAME":""}`, want: []gen.InvalidField{field("NAME", bodyLoc)}},
				{name: "not an object", body: `["name"]`, want: []gen.InvalidField{field("body", bodyLoc)}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.do(t, request{method: http.MethodPost, path: "/v1/api-keys", key: key, body: tt.body}), tt.want...)
				})
			}
		})
		t.Run("create-415", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/api-keys", key: key, body: `{"name":"x"}`,
				headers: map[string]string{"Content-Type": "text/plain"}})
			mustProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-media-type")
		})
		t.Run("list-200", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/api-keys", key: key})
			got := mustJSON[gen.APIKeyList](t, rec, http.StatusOK)
			require.Len(t, got.Items, 2)
			require.Equal(t, created.Id, got.Items[0].Id, "newest first")
			require.NotContains(t, rec.Body.String(), created.Key)
			require.NotContains(t, rec.Body.String(), key)
		})
		t.Run("revoke-404", func(t *testing.T) {
			// Another account's key is indistinguishable from a missing one.
			rec := env.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/" + created.Id, key: otherKey})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
			rec = env.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/key_aaaaaaaaaaaaaaaaaaaa", key: key})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
		t.Run("revoke-400", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/not-a-key-id", key: key})
			mustInvalidFields(t, rec, field("keyId", pathLoc))
		})
		t.Run("list-400", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/api-keys?state=expired", key: key})
			mustInvalidFields(t, rec, field("state", queryLoc))
		})
		t.Run("revoke-200", func(t *testing.T) {
			got := mustJSON[gen.APIKey](t, env.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/" + created.Id, key: key}), http.StatusOK)
			require.NotNil(t, got.RevokedAt)
			again := mustJSON[gen.APIKey](t, env.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/" + created.Id, key: key}), http.StatusOK)
			require.Equal(t, got.RevokedAt.UTC(), again.RevokedAt.UTC(), "revoking twice keeps the first time")
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/me", key: created.Key})
			mustProblem(t, rec, http.StatusUnauthorized, "unauthorized")
		})
		t.Run("list-200/by state", func(t *testing.T) {
			ids := func(state string) []string {
				var out []string
				rec := env.do(t, request{method: http.MethodGet, path: "/v1/api-keys?state=" + state, key: key})
				for _, k := range mustJSON[gen.APIKeyList](t, rec, http.StatusOK).Items {
					out = append(out, k.Id)
				}
				return out
			}
			require.Len(t, ids("all"), 2)
			require.Equal(t, []string{created.Id}, ids("revoked"))
			require.Len(t, ids("active"), 1)
			require.NotEqual(t, created.Id, ids("active")[0])
		})
	})
}

func TestLocations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		other, otherKey := env.mustAccount(t, "Rival", store.TierPro)

		var loc gen.Location
		t.Run("create-201", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key,
				body: `{"ghlLocationId":"ve9EPM428h8vShlRW1KT","name":"Downtown Dental","timezone":"America/Chicago"}`})
			loc = mustJSON[gen.Location](t, rec, http.StatusCreated)
			require.Equal(t, "/v1/locations/"+loc.Id, rec.Header().Get("Location"))
			require.Regexp(t, `^loc_[a-z2-7]{20}$`, loc.Id)
			require.Equal(t, "ve9EPM428h8vShlRW1KT", loc.GhlLocationId)
			require.Equal(t, "Downtown Dental", loc.Name)
			require.Equal(t, "America/Chicago", loc.Timezone)
			require.WithinDuration(t, time.Now(), loc.CreatedAt, time.Minute)
		})
		t.Run("create-201/timezone defaults to UTC", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: `{"ghlLocationId":"second","name":"Second"}`})
			require.Equal(t, "UTC", mustJSON[gen.Location](t, rec, http.StatusCreated).Timezone)
		})
		t.Run("create-201/the same GHL id in another account", func(t *testing.T) {
			env.mustCreateLocation(t, otherKey, "ve9EPM428h8vShlRW1KT", "Theirs")
		})
		t.Run("create-409", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key,
				body: `{"ghlLocationId":"ve9EPM428h8vShlRW1KT","name":"Again"}`})
			mustProblem(t, rec, http.StatusConflict, "conflict")
		})

		before := env.mustLocationCount(t, acc.ID)
		t.Run("create-400", func(t *testing.T) {
			tests := []struct {
				name string
				body string
				want []gen.InvalidField
			}{
				{name: "missing fields", body: `{}`, want: []gen.InvalidField{field("ghlLocationId", bodyLoc), field("name", bodyLoc)}},
				{name: "wrong types", body: `{"ghlLocationId":123,"name":true}`, want: []gen.InvalidField{field("ghlLocationId", bodyLoc), field("name", bodyLoc)}},
				{name: "unknown fields", body: `{"ghlLocationId":"a","name":"b","owner":"x","extra":{}}`, want: []gen.InvalidField{field("extra", bodyLoc), field("owner", bodyLoc)}},
				{name: "pattern", body: `{"ghlLocationId":"has space","name":"b"}`, want: []gen.InvalidField{field("ghlLocationId", bodyLoc)}},
				{name: "too long", body: `{"ghlLocationId":"a","name":"` + strings.Repeat("n", 201) + `"}`, want: []gen.InvalidField{field("name", bodyLoc)}},
				{name: "unknown time zone", body: `{"ghlLocationId":"a","name":"b","timezone":"Mars/Olympus"}`, want: []gen.InvalidField{field("timezone", bodyLoc)}},
				{name: "server-local time zone", body: `{"ghlLocationId":"a","name":"b","timezone":"Local"}`, want: []gen.InvalidField{field("timezone", bodyLoc)}},
				{name: "null body", body: `null`, want: []gen.InvalidField{field("body", bodyLoc)}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: tt.body}), tt.want...)
				})
			}
			t.Run("empty body", func(t *testing.T) {
				rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key,
					headers: map[string]string{"Content-Type": "application/json"}})
				mustInvalidFields(t, rec, field("body", bodyLoc))
			})
			malformed := []struct {
				name string
				body string
			}{
				{name: "truncated", body: `{"ghlLocationId":"a","name":`},
				{name: "not json", body: `ghlLocationId=a&name=b`},
				{name: "trailing garbage", body: `{"ghlLocationId":"a","name":"b"} {"x":1}`},
			}
			for _, tt := range malformed {
				t.Run("malformed json/"+tt.name, func(t *testing.T) {
					rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: tt.body})
					p := mustProblem(t, rec, http.StatusBadRequest, "malformed-json")
					require.Contains(t, *p.Detail, "not valid JSON")
				})
			}
		})
		t.Run("create-413", func(t *testing.T) {
			body := `{"ghlLocationId":"big","name":"` + strings.Repeat("n", testMaxBodyBytes) + `"}`
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: body})
			p := mustProblem(t, rec, http.StatusRequestEntityTooLarge, "payload-too-large")
			require.Contains(t, *p.Detail, fmt.Sprint(testMaxBodyBytes))
			rec = env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: body, chunked: true})
			mustProblem(t, rec, http.StatusRequestEntityTooLarge, "payload-too-large")
		})
		t.Run("create-415", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key,
				body: `{"ghlLocationId":"a","name":"b"}`, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
			mustProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-media-type")
		})
		t.Run("bad input writes nothing", func(t *testing.T) {
			require.Equal(t, before, env.mustLocationCount(t, acc.ID))
		})

		t.Run("get-200", func(t *testing.T) {
			got := mustJSON[gen.Location](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id, key: key}), http.StatusOK)
			require.Equal(t, loc.Id, got.Id)
			require.Equal(t, loc.Name, got.Name)
		})
		t.Run("get-404", func(t *testing.T) {
			// Another account's location answers exactly like a missing one.
			theirs := env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id, key: otherKey})
			missing := env.do(t, request{method: http.MethodGet, path: "/v1/locations/loc_aaaaaaaaaaaaaaaaaaaa", key: otherKey})
			p1 := mustProblem(t, theirs, http.StatusNotFound, "not-found")
			p2 := mustProblem(t, missing, http.StatusNotFound, "not-found")
			require.Equal(t, *p1.Detail, *p2.Detail)
			require.Equal(t, p1.Title, p2.Title)
			require.Zero(t, env.mustLocationCount(t, other.ID)-1, "the other account still has only its own location")
		})
		t.Run("get-400", func(t *testing.T) {
			mustInvalidFields(t, env.do(t, request{method: http.MethodGet, path: "/v1/locations/LOC-1", key: key}), field("locationId", pathLoc))
		})
		t.Run("delete-404", func(t *testing.T) {
			mustProblem(t, env.do(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id, key: otherKey}), http.StatusNotFound, "not-found")
		})
		t.Run("delete-204", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id, key: key})
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			require.Empty(t, rec.Body.String())
			mustProblem(t, env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id, key: key}), http.StatusNotFound, "not-found")
			mustProblem(t, env.do(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id, key: key}), http.StatusNotFound, "not-found")
		})
	})
}

func TestListLocations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		var want []string
		for i := range 5 {
			want = append([]string{env.mustCreateLocation(t, key, fmt.Sprintf("ghl%d", i), fmt.Sprintf("L%d", i)).Id}, want...)
		}
		env.mustCreateLocation(t, otherKey, "theirs", "Theirs")

		t.Run("list-200/pages", func(t *testing.T) {
			var got []string
			path := "/v1/locations?limit=2"
			for pages := 0; ; pages++ {
				require.Less(t, pages, 3, "too many pages")
				page := mustJSON[gen.LocationList](t, env.do(t, request{method: http.MethodGet, path: path, key: key}), http.StatusOK)
				for _, l := range page.Items {
					got = append(got, l.Id)
				}
				if page.NextCursor == nil {
					break
				}
				path = "/v1/locations?limit=2&cursor=" + *page.NextCursor
			}
			require.Equal(t, want, got, "newest first, every location once, none of the other account's")
		})
		t.Run("list-200/default limit", func(t *testing.T) {
			page := mustJSON[gen.LocationList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), http.StatusOK)
			require.Len(t, page.Items, 5)
			require.Nil(t, page.NextCursor)
		})
		t.Run("list-200/empty", func(t *testing.T) {
			_, emptyKey := env.mustAccount(t, "Empty", store.TierFree)
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/locations", key: emptyKey})
			require.JSONEq(t, `{"items":[],"nextCursor":null}`, rec.Body.String())
		})
		t.Run("list-400", func(t *testing.T) {
			tests := []struct {
				name  string
				query string
				want  gen.InvalidField
			}{
				{name: "limit zero", query: "limit=0", want: field("limit", queryLoc)},
				{name: "limit too big", query: "limit=201", want: field("limit", queryLoc)},
				{name: "limit not a number", query: "limit=ten", want: field("limit", queryLoc)},
				{name: "cursor not issued", query: "cursor=bm90LWEtY3Vyc29y", want: field("cursor", queryLoc)},
				{name: "cursor empty", query: "cursor=", want: field("cursor", queryLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.do(t, request{method: http.MethodGet, path: "/v1/locations?" + tt.query, key: key}), tt.want)
				})
			}
		})
	})
}

func TestErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustEnv(t, engine)
		_, key := env.mustAccount(t, "Acme", store.TierFree)

		t.Run("unknown route-404", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/nothing-here", key: key})
			p := mustProblem(t, rec, http.StatusNotFound, "not-found")
			require.Nil(t, p.Instance, "a path that is not the API's is never shown back")
			require.NotContains(t, rec.Body.String(), "nothing-here")
		})
		t.Run("wrong method-405", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodPut, path: "/v1/locations", key: key})
			mustProblem(t, rec, http.StatusMethodNotAllowed, "method-not-allowed")
			require.Contains(t, rec.Header().Get("Allow"), http.MethodPost)
		})
		t.Run("request id is echoed", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/v1/me", headers: map[string]string{api.HeaderRequestID: "trace-42"}})
			p := mustProblem(t, rec, http.StatusUnauthorized, "unauthorized")
			require.Equal(t, "trace-42", p.RequestId)
			require.Contains(t, env.logs.String(), `"request_id":"trace-42"`)
		})
		t.Run("unsafe request id is replaced", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/health", headers: map[string]string{api.HeaderRequestID: "bad id\nwith newline"}})
			require.Regexp(t, `^[0-9a-f]{32}$`, rec.Header().Get(api.HeaderRequestID))
		})
		t.Run("internal error-500", func(t *testing.T) {
			broken := mustEnvWithStore(t, env.db, failingStore{Store: env.db, err: errors.New("pq: password authentication failed for user secretuser")})
			rec := broken.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
			p := mustProblem(t, rec, http.StatusInternalServerError, "internal-error")
			require.NotContains(t, rec.Body.String(), "secretuser", "internals never reach the caller")
			require.Contains(t, broken.logs.String(), "secretuser", "internals reach the log")
			require.Contains(t, broken.logs.String(), p.RequestId)
		})
		t.Run("panic-500", func(t *testing.T) {
			panicky := mustEnvWithStore(t, env.db, failingStore{Store: env.db, panics: true})
			rec := panicky.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
			mustProblem(t, rec, http.StatusInternalServerError, "internal-error")
			require.Contains(t, panicky.logs.String(), "panic: store exploded")
		})
	})
}

// failingStore is a store whose ListLocations fails with err, or panics.
type failingStore struct {
	api.Store
	err    error
	panics bool
}

func (s failingStore) ListLocations(context.Context, string, store.Page) ([]store.Location, string, error) {
	if s.panics {
		panic("store exploded")
	}
	return nil, "", s.err
}

func TestDocs(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	t.Run("openapi.json", func(t *testing.T) {
		rec := env.do(t, request{method: http.MethodGet, path: "/openapi.json"})
		require.Equal(t, http.StatusOK, rec.Code)
		spec, err := gen.GetSpecJSON()
		require.NoError(t, err)
		require.JSONEq(t, string(spec), rec.Body.String())
	})
	t.Run("swagger ui", func(t *testing.T) {
		rec := env.do(t, request{method: http.MethodGet, path: "/api-docs/"})
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "/openapi.json")
		require.NotContains(t, rec.Body.String(), "unpkg.com")
		require.NotContains(t, rec.Body.String(), "jsdelivr")
	})
	t.Run("swagger ui assets are gzipped once", func(t *testing.T) {
		rec := env.do(t, request{method: http.MethodGet, path: "/api-docs/swagger-ui-bundle.js", headers: map[string]string{"Accept-Encoding": "gzip"}})
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
		zr, err := gzip.NewReader(rec.Body)
		require.NoError(t, err)
		head := make([]byte, 2)
		_, err = io.ReadFull(zr, head)
		require.NoError(t, err)
		require.NotEqual(t, []byte{0x1f, 0x8b}, head, "the asset was compressed twice")
	})
}
