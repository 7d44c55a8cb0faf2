package ghl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of the client, wrapped in an *APIError (test them with errors.Is).
var (
	// ErrTokenRejected means GHL's API refused the access token or Private Integration Token (401
	// or 403): expired, revoked, for another location, or without the scope.
	ErrTokenRejected = errors.New("GHL refused the token")
	// ErrGrantRejected means GHL's token endpoint refused the authorization code or the refresh
	// token (a 4xx other than 429): used already, expired, revoked, or for another app.
	ErrGrantRejected = errors.New("GHL refused the authorization code or refresh token")
	// ErrUnavailable means GHL did not answer usefully within the retries: 5xx, timeouts, network
	// errors, or an answer that is not the documented JSON.
	ErrUnavailable = errors.New("GHL is unavailable")
	// ErrRateLimited means GHL still answered 429 when the retries ran out.
	ErrRateLimited = errors.New("GHL's rate limit is used up")
	// ErrBadRequest means GHL refused the request itself (another 4xx), such as a location id it
	// does not know.
	ErrBadRequest = errors.New("GHL refused the request")
)

// APIError is a failed call to GHL. Its message names the endpoint, GHL's last status and the
// attempts, never a body (GHL's error bodies can echo what was sent).
type APIError struct {
	// Endpoint is "token" or "workflows".
	Endpoint string
	// Status is GHL's last HTTP status; 0 when no answer came (a network error or timeout).
	Status int
	// Attempts is how many requests were sent.
	Attempts int
	// RetryAfter is when GHL said to try again (429), or zero.
	RetryAfter time.Duration
	// Kind is one of the errors above.
	Kind error
}

// Error describes the failure without any token.
func (e *APIError) Error() string {
	status := "no answer"
	if e.Status != 0 {
		status = strconv.Itoa(e.Status)
	}
	return fmt.Sprintf("GHL %s: %s after %d attempt(s): %v", e.Endpoint, status, e.Attempts, e.Kind)
}

// Unwrap returns the kind.
func (e *APIError) Unwrap() error { return e.Kind }

// Defaults of ClientConfig.
const (
	// DefaultRequestTimeout bounds one request to GHL, the answer's body included.
	DefaultRequestTimeout = 15 * time.Second
	// DefaultMaxAttempts bounds the requests of one call, the first included.
	DefaultMaxAttempts = 4
	// DefaultMaxElapsed bounds one call, its waits included: a wait that would end past it is not
	// taken, and the call fails with the last error instead.
	DefaultMaxElapsed = 45 * time.Second
	// DefaultBaseBackoff and DefaultMaxBackoff shape the waits between attempts: full jitter, a
	// random wait up to min(DefaultMaxBackoff, DefaultBaseBackoff * 2^(attempt-1)).
	DefaultBaseBackoff = 500 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
	// maxBody bounds the body read from GHL: a location's whole workflow list is a few hundred KB.
	maxBody = 16 << 20
)

// ClientConfig configures NewClient.
type ClientConfig struct {
	// GHL holds the app's credentials and GHL's URLs.
	GHL Config
	// HTTP sends the requests; nil means a client of its own (no overall timeout: each request has
	// RequestTimeout).
	HTTP *http.Client
	// Limiter holds the API calls of each GHL location to GHL's limit; nil means an in-process
	// limiter of GHL's default limit.
	Limiter *Limiter
	// RequestTimeout, MaxAttempts, MaxElapsed, BaseBackoff and MaxBackoff: zero means the defaults.
	RequestTimeout time.Duration
	MaxAttempts    int
	MaxElapsed     time.Duration
	BaseBackoff    time.Duration
	MaxBackoff     time.Duration
}

// Client calls GHL's token endpoint and workflow list. It is safe for concurrent use.
type Client struct {
	ghl            Config
	http           *http.Client
	limiter        *Limiter
	requestTimeout time.Duration
	maxAttempts    int
	maxElapsed     time.Duration
	baseBackoff    time.Duration
	maxBackoff     time.Duration
}

// NewClient returns a client configured by cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.GHL.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		ghl:            cfg.GHL,
		http:           cfg.HTTP,
		limiter:        cfg.Limiter,
		requestTimeout: cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout),
		maxAttempts:    cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
		maxElapsed:     cmp.Or(cfg.MaxElapsed, DefaultMaxElapsed),
		baseBackoff:    cmp.Or(cfg.BaseBackoff, DefaultBaseBackoff),
		maxBackoff:     cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff),
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.limiter == nil {
		l, err := NewLimiter(LimiterConfig{})
		if err != nil {
			return nil, err
		}
		c.limiter = l
	}
	return c, nil
}

// Token is what GHL's token endpoint answers.
type Token struct {
	AccessToken  Secret
	RefreshToken Secret
	// ExpiresAt is when the access token expires, from expires_in.
	ExpiresAt time.Time
	Scopes    []string
	// UserType is "Location" for a sub-account token, "Company" for an agency one.
	UserType string
	// LocationID is the GHL location the token is for (sub-account tokens only).
	LocationID string
	CompanyID  string
}

// tokenWire is the token endpoint's JSON. It lives only inside decodeToken.
type tokenWire struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	UserType     string `json:"userType"`
	LocationID   string `json:"locationId"`
	CompanyID    string `json:"companyId"`
}

// ExchangeCode trades an authorization code for a location's tokens (grant authorization_code,
// user_type Location).
func (c *Client) ExchangeCode(ctx context.Context, code string) (Token, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	return c.token(ctx, form)
}

// Refresh trades a refresh token for a new access token and a new refresh token (grant
// refresh_token). GHL rotates the refresh token: store the new one before using the new access
// token (see Service.accessToken).
func (c *Client) Refresh(ctx context.Context, refreshToken Secret) (Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken.Reveal()}}
	return c.token(ctx, form)
}

// token posts form, with the app's credentials, to GHL's token endpoint.
func (c *Client) token(ctx context.Context, form url.Values) (Token, error) {
	form.Set("client_id", c.ghl.ClientID)
	form.Set("client_secret", c.ghl.ClientSecret.Reveal())
	form.Set("user_type", "Location")
	form.Set("redirect_uri", c.ghl.RedirectURL)
	body := form.Encode()
	endpoint := c.ghl.apiURL() + "/oauth/token"
	// The token endpoint is not a location's resource, so it does not count against a location's
	// limit; its calls are a few a day per location.
	res, err := c.do(ctx, endpointToken, "", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return Token{}, err
	}
	var w tokenWire
	if err := json.Unmarshal(res.body, &w); err != nil || w.AccessToken == "" || w.ExpiresIn <= 0 {
		return Token{}, &APIError{Endpoint: endpointToken, Status: res.status, Attempts: res.attempts, Kind: ErrUnavailable}
	}
	return Token{
		AccessToken:  NewSecret(w.AccessToken),
		RefreshToken: NewSecret(w.RefreshToken),
		ExpiresAt:    res.at.Add(time.Duration(w.ExpiresIn) * time.Second).UTC(),
		Scopes:       strings.Fields(w.Scope),
		UserType:     w.UserType,
		LocationID:   w.LocationID,
		CompanyID:    w.CompanyID,
	}, nil
}

// Workflow is one workflow of GHL's list: all that GHL's public API says about it.
type Workflow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Version int    `json:"version"`
}

// ListWorkflows returns GHL's workflow list of a location (GET /workflows/?locationId=, with the
// Version header), counted against the location's limit.
func (c *Client) ListWorkflows(ctx context.Context, ghlLocationID string, token Secret) ([]Workflow, error) {
	endpoint := c.ghl.apiURL() + "/workflows/?" + url.Values{"locationId": {ghlLocationID}}.Encode()
	res, err := c.do(ctx, endpointWorkflows, ghlLocationID, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
		req.Header.Set("Version", c.ghl.apiVersion())
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	var body struct {
		Workflows []Workflow `json:"workflows"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Workflows == nil {
		return nil, &APIError{Endpoint: endpointWorkflows, Status: res.status, Attempts: res.attempts, Kind: ErrUnavailable}
	}
	for _, w := range body.Workflows {
		if w.ID == "" || w.Version < 0 {
			return nil, &APIError{Endpoint: endpointWorkflows, Status: res.status, Attempts: res.attempts, Kind: ErrUnavailable}
		}
	}
	return body.Workflows, nil
}

// answer is a successful answer of GHL.
type answer struct {
	status   int
	body     []byte
	attempts int
	// at is when the request that succeeded was sent, the base of expires_in.
	at time.Time
}

// do sends the request that build makes, retrying on 429 (after GHL's Retry-After) and on 5xx and
// network errors (after a full-jitter backoff), within the attempts and the elapsed time allowed.
// limitKey, when set, is the GHL location whose limit each attempt waits for.
func (c *Client) do(ctx context.Context, endpoint, limitKey string, build func(context.Context) (*http.Request, error)) (answer, error) {
	start := time.Now()
	var last *APIError
	for attempt := 1; ; attempt++ {
		if limitKey != "" {
			if err := c.limiter.Wait(ctx, limitKey); err != nil {
				return answer{}, err
			}
		}
		sentAt := time.Now()
		status, header, body, err := c.attempt(ctx, endpoint, build)
		if ctx.Err() != nil {
			return answer{}, fmt.Errorf("GHL %s: %w", endpoint, ctx.Err())
		}
		var reason string
		var wait time.Duration
		switch {
		case err != nil:
			reason = "network"
			last = &APIError{Endpoint: endpoint, Attempts: attempt, Kind: ErrUnavailable}
		case status >= 200 && status < 300:
			return answer{status: status, body: body, attempts: attempt, at: sentAt}, nil
		case status == http.StatusTooManyRequests:
			reason = "429"
			retryAfter := parseRetryAfter(header, time.Now())
			last = &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, RetryAfter: retryAfter, Kind: ErrRateLimited}
			if retryAfter > 0 {
				if limitKey != "" {
					c.limiter.Hold(limitKey, retryAfter)
				}
				// GHL's wait is honoured in full; the jitter on top keeps the callers that were
				// refused together from coming back together.
				wait = retryAfter + rand.N(c.baseBackoff)
			}
		case status >= 500:
			reason = "5xx"
			last = &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Kind: ErrUnavailable}
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			if endpoint == endpointToken {
				return answer{}, &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Kind: ErrGrantRejected}
			}
			return answer{}, &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Kind: ErrTokenRejected}
		default:
			if endpoint == endpointToken {
				// GHL answers a used, expired or unknown code or refresh token with a 400.
				return answer{}, &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Kind: ErrGrantRejected}
			}
			return answer{}, &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Kind: ErrBadRequest}
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if attempt >= c.maxAttempts || time.Since(start)+wait > c.maxElapsed {
			if last.RetryAfter == 0 {
				last.RetryAfter = wait
			}
			return answer{}, last
		}
		retriesTotal.With(endpoint, reason).Inc()
		if err := sleep(ctx, wait); err != nil {
			return answer{}, fmt.Errorf("GHL %s: %w", endpoint, err)
		}
	}
}

// attempt sends one request within the request timeout and reads its answer.
func (c *Client) attempt(ctx context.Context, endpoint string, build func(context.Context) (*http.Request, error)) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	start := time.Now()
	defer func() { requestDuration.With(endpoint).UpdateDuration(start) }()
	req, err := build(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		requestsTotal.With(endpoint, "error").Inc()
		// The *url.Error of net/http repeats the URL, which holds no secret, but the error is
		// dropped anyway: the caller only needs to know that no answer came.
		return 0, nil, nil, errors.New("no answer")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		requestsTotal.With(endpoint, "error").Inc()
		return 0, nil, nil, errors.New("answer cut off")
	}
	requestsTotal.With(endpoint, outcome(resp.StatusCode)).Inc()
	observeRateLimit(resp.Header)
	return resp.StatusCode, resp.Header, body, nil
}

// backoff is the full-jitter wait after a failed attempt: uniformly random up to the exponential
// bound, so that callers that failed together spread out.
func (c *Client) backoff(attempt int) time.Duration {
	bound := c.maxBackoff
	if attempt < 30 {
		bound = min(c.maxBackoff, c.baseBackoff<<(attempt-1))
	}
	return rand.N(bound) + time.Millisecond
}

// maxRetryAfter bounds the Retry-After honoured, so that a wrong header cannot stall a sync for
// hours; the call's MaxElapsed usually ends it first.
const maxRetryAfter = 10 * time.Minute

// parseRetryAfter reads Retry-After as seconds or an HTTP date; zero when absent or malformed.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return min(time.Duration(secs)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}
