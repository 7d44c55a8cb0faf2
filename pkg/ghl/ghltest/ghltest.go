// Package ghltest is an in-process fake of GoHighLevel's OAuth and workflow API, built from GHL's
// documented behaviour (see docs/ghl.md and the sources it cites), for the tests of pkg/ghl and of
// the service: the choose-location page, the token endpoint (authorization_code and refresh_token
// grants, with refresh-token rotation), the workflow list with versions, 401 on a bad token, 429
// with Retry-After and the X-RateLimit-* headers, 5xx and slow answers on demand. It records every
// request so that tests can assert what the client sent and when.
//
// Refresh-token rotation: every refresh answers a new access token and a new refresh token. GHL
// does not document when the old refresh token stops working; the fake's default, Grace, keeps a
// refresh token (and its access token) working until a token issued after it is used, which is
// what lets a client that crashed before storing a new pair start again from the old one. Strict
// ends the old refresh token the moment it is used, for tests of what the client does then.
package ghltest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The app credentials the fake accepts.
const (
	ClientID     = "fake-client-id"
	ClientSecret = "fake-client-secret"
	// APIVersion is the Version header the workflow list requires, as GHL's spec gives it.
	APIVersion = "2021-07-28"
)

// Rotation is how the fake ends a refresh token that was used.
type Rotation int

// The rotation modes.
const (
	// Grace keeps a refresh token working until a token issued after it is used.
	Grace Rotation = iota
	// Strict ends a refresh token as soon as it is used once.
	Strict
)

// Workflow is one workflow of a location, as GHL's list returns it.
type Workflow struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Version    int    `json:"version"`
	CreatedAt  string `json:"createdAt"`
	UpdatedAt  string `json:"updatedAt"`
	LocationID string `json:"locationId"`
}

// Request is one request the fake received.
type Request struct {
	At time.Time
	// Endpoint is "chooselocation", "token" or "workflows" ("" for an unknown path).
	Endpoint string
	Method   string
	// LocationID is the locationId the workflow list was asked for, or the token's location.
	LocationID string
	// GrantType is the token endpoint's grant_type.
	GrantType string
	// Version is the Version header.
	Version string
	// Status is what the fake answered.
	Status int
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	rotation   Rotation
	tokenTTL   time.Duration
	delay      time.Duration
	failNext   []int
	limit429   int
	retryAfter time.Duration
	// limit and window, when limit > 0, make the fake enforce a burst limit per location like
	// GHL's, answering 429 beyond it.
	limit     int
	window    time.Duration
	hits      map[string][]time.Time
	overLimit int
	chosen    string
	codes     map[string]string // code -> location
	families  []*family
	access    map[string]tokenRef
	refresh   map[string]tokenRef
	pits      map[string]string // token -> location
	workflows map[string][]Workflow
	requests  []Request
}

// family is the tokens issued from one authorization: generation 0 from the code, each refresh a
// new generation.
type family struct {
	location string
	gens     []*generation
	// confirmed is the newest generation whose token was used; older generations are ended.
	confirmed int
	revoked   bool
}

// generation is one access and refresh token pair.
type generation struct {
	access, refresh string
	expiresAt       time.Time
	refreshUsed     bool
}

// tokenRef points at a generation of a family.
type tokenRef struct {
	f   *family
	gen int
}

// New starts a fake that answers on a local port until the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tokenTTL:  24 * time.Hour,
		hits:      map[string][]time.Time{},
		codes:     map[string]string{},
		access:    map[string]tokenRef{},
		refresh:   map[string]tokenRef{},
		pits:      map[string]string{},
		workflows: map[string][]Workflow{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/chooselocation", s.chooseLocation)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /workflows/", s.listWorkflows)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// SetRotation sets how used refresh tokens end (Grace by default).
func (s *Server) SetRotation(r Rotation) { s.with(func() { s.rotation = r }) }

// SetTokenTTL sets the lifetime of the access tokens issued from now on (24 h by default, as GHL's).
func (s *Server) SetTokenTTL(d time.Duration) { s.with(func() { s.tokenTTL = d }) }

// SetDelay makes every answer wait d first (a slow GHL).
func (s *Server) SetDelay(d time.Duration) { s.with(func() { s.delay = d }) }

// FailNext makes the next len(statuses) requests answer those statuses (5xx) instead.
func (s *Server) FailNext(statuses ...int) {
	s.with(func() { s.failNext = append(s.failNext, statuses...) })
}

// RateLimitNext makes the next n requests answer 429 with Retry-After (whole seconds, at least 1).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.with(func() { s.limit429, s.retryAfter = n, retryAfter })
}

// EnforceLimit makes the fake count each location's workflow-list requests and answer 429 (with
// Retry-After) to one that would be the limit+1th within any window, as GHL does; OverLimit counts
// them.
func (s *Server) EnforceLimit(limit int, window time.Duration) {
	s.with(func() { s.limit, s.window = limit, window })
}

// OverLimit returns how many requests went over the enforced limit.
func (s *Server) OverLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overLimit
}

// ChooseLocation sets the sub-account that the choose-location page picks, as a user would.
func (s *Server) ChooseLocation(ghlLocationID string) { s.with(func() { s.chosen = ghlLocationID }) }

// IssueCode returns an authorization code for the location, as the choose-location page would.
func (s *Server) IssueCode(ghlLocationID string) string {
	code := "code-" + randomText()
	s.with(func() { s.codes[code] = ghlLocationID })
	return code
}

// AddPIT returns a Private Integration Token of the location.
func (s *Server) AddPIT(ghlLocationID string) string {
	token := "pit-" + randomText()
	s.with(func() { s.pits[token] = ghlLocationID })
	return token
}

// RevokeAll ends every OAuth token of the location, as uninstalling the app does.
func (s *Server) RevokeAll(ghlLocationID string) {
	s.with(func() {
		for _, f := range s.families {
			if f.location == ghlLocationID {
				f.revoked = true
			}
		}
	})
}

// ExpireAccessTokens makes every access token issued so far expired.
func (s *Server) ExpireAccessTokens() {
	s.with(func() {
		for _, f := range s.families {
			for _, g := range f.gens {
				g.expiresAt = time.Time{}
			}
		}
	})
}

// SetWorkflows replaces the location's workflow list.
func (s *Server) SetWorkflows(ghlLocationID string, wfs []Workflow) {
	out := make([]Workflow, len(wfs))
	for i, w := range wfs {
		w.LocationID = ghlLocationID
		if w.CreatedAt == "" {
			w.CreatedAt = "2026-11-01T10:00:00.000Z"
		}
		if w.UpdatedAt == "" {
			w.UpdatedAt = w.CreatedAt
		}
		out[i] = w
	}
	s.with(func() { s.workflows[ghlLocationID] = out })
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RefreshTokenValid reports whether GHL would accept the refresh token now.
func (s *Server) RefreshTokenValid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.refresh[token]
	return ok && s.refreshUsable(ref)
}

// with runs fn under the lock.
func (s *Server) with(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// chooseLocation stands for GHL's page: the user logs in and picks the sub-account set by
// ChooseLocation, and GHL sends the browser to redirect_uri with a code and the state.
func (s *Server) chooseLocation(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	chosen := s.chosen
	s.mu.Unlock()
	rec := Request{At: time.Now(), Endpoint: "chooselocation", Method: r.Method, LocationID: chosen}
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" || chosen == "" {
		s.answer(w, rec, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "Bad Request"}, nil)
		return
	}
	target, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		s.answer(w, rec, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "Bad Request"}, nil)
		return
	}
	back := target.Query()
	back.Set("code", s.IssueCode(chosen))
	back.Set("state", q.Get("state"))
	target.RawQuery = back.Encode()
	w.Header().Set("Location", target.String())
	s.record(rec, http.StatusFound)
	w.WriteHeader(http.StatusFound)
}

// token is POST /oauth/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rec := Request{At: time.Now(), Endpoint: "token", Method: r.Method, GrantType: r.PostForm.Get("grant_type")}
	if s.injected(w, &rec) {
		return
	}
	if r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		s.answer(w, rec, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Invalid client credentials", "error": "Unauthorized"}, nil)
		return
	}
	s.mu.Lock()
	var f *family
	switch rec.GrantType {
	case "authorization_code":
		loc, ok := s.codes[r.PostForm.Get("code")]
		if ok {
			// A code is used once.
			delete(s.codes, r.PostForm.Get("code"))
			f = &family{location: loc}
			s.families = append(s.families, f)
		}
	case "refresh_token":
		ref, ok := s.refresh[r.PostForm.Get("refresh_token")]
		if ok && s.refreshUsable(ref) {
			ref.f.gens[ref.gen].refreshUsed = true
			f = ref.f
		}
	}
	if f == nil {
		s.mu.Unlock()
		s.answer(w, rec, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "Invalid grant", "error": "invalid_grant"}, nil)
		return
	}
	g := &generation{access: "at-" + randomText(), refresh: "rt-" + randomText(), expiresAt: time.Now().Add(s.tokenTTL)}
	f.gens = append(f.gens, g)
	n := len(f.gens) - 1
	s.access[g.access] = tokenRef{f: f, gen: n}
	s.refresh[g.refresh] = tokenRef{f: f, gen: n}
	ttl := s.tokenTTL
	s.mu.Unlock()
	rec.LocationID = f.location
	s.answer(w, rec, http.StatusOK, map[string]any{
		"access_token":       g.access,
		"token_type":         "Bearer",
		"expires_in":         int64(ttl / time.Second),
		"refresh_token":      g.refresh,
		"scope":              "workflows.readonly",
		"userType":           "Location",
		"locationId":         f.location,
		"companyId":          "company-1",
		"userId":             "user-1",
		"isBulkInstallation": false,
	}, nil)
}

// refreshUsable reports whether the refresh token of ref still works. The lock is held.
func (s *Server) refreshUsable(ref tokenRef) bool {
	g := ref.f.gens[ref.gen]
	switch {
	case ref.f.revoked, ref.gen < ref.f.confirmed:
		return false
	case s.rotation == Strict && g.refreshUsed:
		return false
	}
	return true
}

// listWorkflows is GET /workflows/?locationId=.
func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	loc := r.URL.Query().Get("locationId")
	rec := Request{At: time.Now(), Endpoint: "workflows", Method: r.Method, LocationID: loc, Version: r.Header.Get("Version")}
	if r.URL.Path != "/workflows/" {
		s.answer(w, rec, http.StatusNotFound, map[string]any{"statusCode": 404, "message": "Cannot GET " + r.URL.Path, "error": "Not Found"}, nil)
		return
	}
	if s.injected(w, &rec) {
		return
	}
	if s.overBurst(loc, rec.At) {
		s.mu.Lock()
		s.overLimit++
		s.mu.Unlock()
		s.answer(w, rec, http.StatusTooManyRequests, map[string]any{"statusCode": 429, "message": "Too Many Requests"},
			http.Header{"Retry-After": {"1"}})
		return
	}
	if rec.Version != APIVersion {
		s.answer(w, rec, http.StatusBadRequest, map[string]any{"statusCode": 400, "message": "Bad Request"}, nil)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !s.authorized(token, loc) {
		s.answer(w, rec, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"}, nil)
		return
	}
	s.mu.Lock()
	wfs := append([]Workflow{}, s.workflows[loc]...)
	s.mu.Unlock()
	s.answer(w, rec, http.StatusOK, map[string]any{"workflows": wfs}, nil)
}

// authorized reports whether token may read the location's workflows, and marks an OAuth token's
// generation used (which ends the older ones).
func (s *Server) authorized(token, loc string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pitLoc, ok := s.pits[token]; ok {
		return pitLoc == loc
	}
	ref, ok := s.access[token]
	if !ok || ref.f.revoked || ref.gen < ref.f.confirmed || ref.f.location != loc {
		return false
	}
	if !time.Now().Before(ref.f.gens[ref.gen].expiresAt) {
		return false
	}
	ref.f.confirmed = ref.gen
	return true
}

// overBurst counts a request of loc at now and reports whether it goes over the enforced limit
// (requests refused are not counted, as GHL does not count them against the budget).
func (s *Server) overBurst(loc string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit <= 0 {
		return false
	}
	log := s.hits[loc]
	cut := 0
	for cut < len(log) && !log[cut].After(now.Add(-s.window)) {
		cut++
	}
	log = log[cut:]
	if len(log) >= s.limit {
		s.hits[loc] = log
		return true
	}
	s.hits[loc] = append(log, now)
	return false
}

// injected answers the request with an injected failure (a delay first, then a queued status or a
// 429) and reports whether it did.
func (s *Server) injected(w http.ResponseWriter, rec *Request) bool {
	s.mu.Lock()
	delay := s.delay
	var status int
	var retryAfter time.Duration
	switch {
	case len(s.failNext) > 0:
		status, s.failNext = s.failNext[0], s.failNext[1:]
	case s.limit429 > 0:
		s.limit429--
		status, retryAfter = http.StatusTooManyRequests, s.retryAfter
	}
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	switch {
	case status == http.StatusTooManyRequests:
		secs := max(int64((retryAfter+time.Second-1)/time.Second), 1)
		s.answer(w, *rec, status, map[string]any{"statusCode": 429, "message": "Too Many Requests"},
			http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}})
		return true
	case status != 0:
		s.answer(w, *rec, status, map[string]any{"statusCode": status, "message": http.StatusText(status)}, nil)
		return true
	}
	return false
}

// answer writes a JSON answer with GHL's rate-limit headers and records the request.
func (s *Server) answer(w http.ResponseWriter, rec Request, status int, body any, extra http.Header) {
	h := w.Header()
	for k, v := range extra {
		h[k] = v
	}
	s.mu.Lock()
	limit, window := s.limit, s.window
	remaining := limit - len(s.hits[rec.LocationID])
	s.mu.Unlock()
	if limit <= 0 {
		limit, window, remaining = 100, 10*time.Second, 99
	}
	h.Set("X-RateLimit-Max", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Interval-Milliseconds", strconv.FormatInt(window.Milliseconds(), 10))
	h.Set("X-RateLimit-Limit-Daily", "200000")
	h.Set("X-RateLimit-Daily-Remaining", "199000")
	h.Set("Content-Type", "application/json")
	s.record(rec, status)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// record appends the request with its status.
func (s *Server) record(rec Request, status int) {
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// randomText returns a random token body.
func randomText() string { return strings.ToLower(rand.Text()) }

// String names the fake in failure messages.
func (s *Server) String() string { return fmt.Sprintf("fake GHL at %s", s.URL) }
