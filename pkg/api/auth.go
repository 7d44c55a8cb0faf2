package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// errUnauthorized is the cause of every 401: the key is missing, malformed, unknown or revoked. The
// caller is not told which, so a guess learns nothing.
var errUnauthorized = errors.New("unauthorized")

// Principal is the caller that an API key authenticated.
type Principal struct {
	// Account is the account the key belongs to.
	Account store.Account
	// Key is the key that authenticated the request (without its secret).
	Key store.APIKey
}

type principalKey struct{}

// withPrincipal returns ctx carrying p.
func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated caller stored in ctx by the API middleware.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// principal returns the authenticated caller of a handler. Every operation whose spec requires
// bearerAuth is authenticated before its handler runs, so a missing principal means the spec and
// the handler disagree: an internal error, never an anonymous request.
func principal(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return Principal{}, errors.New("no authenticated principal: the operation lacks bearerAuth in openapi.yaml")
	}
	return p, nil
}

// adminPrincipal returns the authenticated caller of an operator route, and the forbidden problem
// when its account is not an admin (the routes are documented, so a 404 would hide nothing).
func adminPrincipal(ctx context.Context) (Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return Principal{}, err
	}
	if !p.Account.IsAdmin {
		return Principal{}, newProblem(kindForbidden, "This operation needs an admin account's API key.", nil)
	}
	return p, nil
}

// authenticate checks an Authorization header value. The key's shape is checked first so garbage
// costs no database lookup; then the store finds the key by its SHA-256 hash. The secret itself is
// never compared: only the hash of what the caller sent is looked up, so lookup time tells an
// attacker nothing about any stored key's secret.
func (s *Server) authenticate(ctx context.Context, header string) (Principal, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, errUnauthorized
	}
	key, err := apikey.Parse(strings.TrimSpace(token))
	if err != nil {
		return Principal{}, errUnauthorized
	}
	acc, k, err := s.store.AuthenticateAPIKey(ctx, apikey.Hash(key))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errUnauthorized
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate API key: %w", err)
	}
	activeAccounts.Seen(acc.ID)
	return Principal{Account: acc, Key: k}, nil
}
