package ghl_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// fakeConfig is the app configuration that the fake accepts, pointed at it.
func fakeConfig(tb testing.TB, fake *ghltest.Server) ghl.Config {
	tb.Helper()
	return ghl.Config{
		ClientID:     ghltest.ClientID,
		ClientSecret: ghl.NewSecret(ghltest.ClientSecret),
		RedirectURL:  "https://ghl-debugger.example/v1/ghl/oauth/callback",
		AuthURL:      fake.URL,
		APIURL:       fake.URL,
		TokenKeys:    mustRing(tb, "k1:"+mustKey(tb, 1)),
	}
}

// mustClient returns a client of the fake with short waits, changed by opts.
func mustClient(tb testing.TB, fake *ghltest.Server, opts ...func(*ghl.ClientConfig)) *ghl.Client {
	tb.Helper()
	cfg := ghl.ClientConfig{
		GHL:            fakeConfig(tb, fake),
		RequestTimeout: 2 * time.Second,
		BaseBackoff:    10 * time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
		MaxElapsed:     10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := ghl.NewClient(cfg)
	require.NoError(tb, err)
	return c
}

// mustExchange connects the GHL location on the fake and returns its tokens.
func mustExchange(tb testing.TB, fake *ghltest.Server, c *ghl.Client, ghlLocationID string) ghl.Token {
	tb.Helper()
	tok, err := c.ExchangeCode(tb.Context(), fake.IssueCode(ghlLocationID))
	require.NoError(tb, err)
	return tok
}

func TestClientTokens(t *testing.T) {
	fake := ghltest.New(t)
	fake.SetTokenTTL(time.Hour)
	c := mustClient(t, fake)
	before := time.Now()
	tok := mustExchange(t, fake, c, "ghl-loc-1")
	require.Equal(t, "ghl-loc-1", tok.LocationID)
	require.Equal(t, "Location", tok.UserType)
	require.Equal(t, []string{"workflows.readonly"}, tok.Scopes)
	require.False(t, tok.AccessToken.Empty())
	require.WithinRange(t, tok.ExpiresAt, before.Add(time.Hour-time.Second), time.Now().Add(time.Hour))

	// A code is used once.
	code := fake.IssueCode("ghl-loc-1")
	_, err := c.ExchangeCode(t.Context(), code)
	require.NoError(t, err)
	_, err = c.ExchangeCode(t.Context(), code)
	require.ErrorIs(t, err, ghl.ErrGrantRejected)

	// Each refresh rotates the refresh token; the old one works until a newer token is used.
	next, err := c.Refresh(t.Context(), tok.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, tok.RefreshToken.Reveal(), next.RefreshToken.Reveal())
	require.True(t, fake.RefreshTokenValid(tok.RefreshToken.Reveal()), "unused new pair: the old one still works")
	_, err = c.ListWorkflows(t.Context(), "ghl-loc-1", next.AccessToken)
	require.NoError(t, err)
	require.False(t, fake.RefreshTokenValid(tok.RefreshToken.Reveal()), "the new pair was used")
	_, err = c.Refresh(t.Context(), tok.RefreshToken)
	require.ErrorIs(t, err, ghl.ErrGrantRejected)
	_, err = c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
	require.ErrorIs(t, err, ghl.ErrTokenRejected, "the old access token ended with it")

	bad := mustClient(t, fake, func(cfg *ghl.ClientConfig) { cfg.GHL.ClientSecret = ghl.NewSecret("wrong") })
	_, err = bad.ExchangeCode(t.Context(), fake.IssueCode("ghl-loc-1"))
	require.ErrorIs(t, err, ghl.ErrGrantRejected)
	require.NotContains(t, err.Error(), "wrong")
}

func TestClientListWorkflows(t *testing.T) {
	fake := ghltest.New(t)
	fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{
		{ID: "wf-a", Name: "Welcome", Status: "published", Version: 3},
		{ID: "wf-b", Name: "Reminder", Status: "draft", Version: 1},
	})
	c := mustClient(t, fake)
	tok := mustExchange(t, fake, c, "ghl-loc-1")

	got, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
	require.NoError(t, err)
	require.Equal(t, []ghl.Workflow{
		{ID: "wf-a", Name: "Welcome", Status: "published", Version: 3},
		{ID: "wf-b", Name: "Reminder", Status: "draft", Version: 1},
	}, got)
	last := fake.Requests()[len(fake.Requests())-1]
	require.Equal(t, ghltest.APIVersion, last.Version, "the Version header GHL requires")
	require.Equal(t, "ghl-loc-1", last.LocationID)

	pit := fake.AddPIT("ghl-loc-1")
	_, err = c.ListWorkflows(t.Context(), "ghl-loc-1", ghl.NewSecret(pit))
	require.NoError(t, err, "a Private Integration Token of the location")

	tests := []struct {
		name     string
		location string
		token    ghl.Secret
	}{
		{name: "unknown token", location: "ghl-loc-1", token: ghl.NewSecret("at-forged")},
		{name: "another location's token", location: "ghl-loc-2", token: tok.AccessToken},
		{name: "another location's PIT", location: "ghl-loc-2", token: ghl.NewSecret(pit)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(fake.Requests())
			_, err := c.ListWorkflows(t.Context(), tt.location, tt.token)
			require.ErrorIs(t, err, ghl.ErrTokenRejected)
			require.Len(t, fake.Requests(), n+1, "a 401 is not retried")
			require.NotContains(t, err.Error(), tt.token.Reveal())
		})
	}

	fake.ExpireAccessTokens()
	_, err = c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
	require.ErrorIs(t, err, ghl.ErrTokenRejected, "an expired access token")
}

func TestClientRetries(t *testing.T) {
	fake := ghltest.New(t)
	fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{{ID: "wf-a", Name: "Welcome", Status: "published", Version: 3}})
	c := mustClient(t, fake, func(cfg *ghl.ClientConfig) { cfg.MaxAttempts = 3 })
	tok := mustExchange(t, fake, c, "ghl-loc-1")

	t.Run("5xx then an answer", func(t *testing.T) {
		n := len(fake.Requests())
		fake.FailNext(http.StatusBadGateway, http.StatusServiceUnavailable)
		got, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Len(t, fake.Requests(), n+3)
	})
	t.Run("5xx on every attempt", func(t *testing.T) {
		n := len(fake.Requests())
		fake.FailNext(500, 500, 500)
		_, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
		require.ErrorIs(t, err, ghl.ErrUnavailable)
		require.ErrorContains(t, err, "500 after 3 attempt(s)")
		require.Len(t, fake.Requests(), n+3, "MaxAttempts bounds the requests")
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		n := len(fake.Requests())
		fake.RateLimitNext(1, time.Second)
		_, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
		require.NoError(t, err)
		reqs := fake.Requests()[n:]
		require.Len(t, reqs, 2)
		require.Equal(t, http.StatusTooManyRequests, reqs[0].Status)
		require.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), time.Second, "waited GHL's Retry-After")
	})
	t.Run("429 past the time allowed", func(t *testing.T) {
		short := mustClient(t, fake, func(cfg *ghl.ClientConfig) { cfg.MaxElapsed = 500 * time.Millisecond })
		fake.RateLimitNext(1, 2*time.Second)
		start := time.Now()
		_, err := short.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
		require.ErrorIs(t, err, ghl.ErrRateLimited)
		require.Less(t, time.Since(start), time.Second, "a wait past MaxElapsed is not taken")
		var apiErr *ghl.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 2*time.Second, apiErr.RetryAfter)
	})
	t.Run("slow answers time out", func(t *testing.T) {
		slow := mustClient(t, fake, func(cfg *ghl.ClientConfig) {
			cfg.RequestTimeout = 100 * time.Millisecond
			cfg.MaxAttempts = 2
		})
		fake.SetDelay(400 * time.Millisecond)
		defer fake.SetDelay(0)
		start := time.Now()
		_, err := slow.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
		require.ErrorIs(t, err, ghl.ErrUnavailable)
		require.ErrorContains(t, err, "no answer after 2 attempt(s)")
		require.Less(t, time.Since(start), 400*time.Millisecond, "each attempt is cut at the request timeout")
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		fake.RateLimitNext(1, 5*time.Second)
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		start := time.Now()
		_, err := c.ListWorkflows(ctx, "ghl-loc-1", tok.AccessToken)
		require.ErrorIs(t, err, ctx.Err())
		require.Less(t, time.Since(start), 2*time.Second)
	})
}

// TestRateLimitHeadersExported reads GHL's X-RateLimit-* headers back from the metrics.
func TestRateLimitHeadersExported(t *testing.T) {
	fake := ghltest.New(t)
	fake.EnforceLimit(40, 10*time.Second)
	fake.SetWorkflows("ghl-loc-1", nil)
	c := mustClient(t, fake)
	tok := mustExchange(t, fake, c, "ghl-loc-1")
	_, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, metrics.WritePrometheus(&buf))
	out := buf.String()
	for _, want := range []string{
		`ghl_ratelimit{window="burst",field="limit"} 40`,
		`ghl_ratelimit{window="burst",field="remaining"} 39`,
		`ghl_ratelimit{window="burst",field="interval_seconds"} 10`,
		`ghl_ratelimit{window="daily",field="limit"} 200000`,
		`ghl_ratelimit{window="daily",field="remaining"} 199000`,
		`ghl_requests_total{endpoint="workflows",outcome="2xx"}`,
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "ghl-loc-1", "no location in a label")
	require.NotContains(t, out, tok.AccessToken.Reveal())
	require.False(t, strings.Contains(out, tok.RefreshToken.Reveal()))
}
