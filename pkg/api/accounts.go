package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// opUpdateAccount is the operation whose body keepDocumentBody keeps: an AccountUpdate tells a
// member that is absent (keep the limit) from one that is null (clear it), which the decoded
// gen.AccountUpdate cannot, since both decode to a nil pointer.
const opUpdateAccount = "UpdateAccount"

// The members of AccountUpdate that are an account's own limits.
const (
	memberRequestsPerMinute = "requestsPerMinute"
	memberAnalysesPerHour   = "analysesPerHour"
)

// UpdateAccount changes an account's tier and its own limits, for operators: it needs an admin
// account's key, and any other key is forbidden (the route is documented, so a 404 would hide
// nothing). The change is one store call, store.UpdateAccount, and the next request of the account
// reads it with its key, so it applies from that request on.
func (s *Server) UpdateAccount(ctx context.Context, req gen.UpdateAccountRequestObject) (gen.UpdateAccountResponseObject, error) {
	if _, err := adminPrincipal(ctx); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errors.New("update account: no request body after validation")
	}
	raw, err := rawBody(ctx)
	if err != nil {
		return nil, fmt.Errorf("update account: %w", err)
	}
	update, err := toAccountUpdate(req.Body, raw)
	if err != nil {
		return nil, err
	}
	acc, err := s.store.UpdateAccount(ctx, req.AccountId, update)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem(kindNotFound, "There is no account with that id.", err)
	}
	if err != nil {
		return nil, fmt.Errorf("update account %s: %w", req.AccountId, err)
	}
	body, err := ToAccountLimits(acc)
	if err != nil {
		return nil, err
	}
	return gen.UpdateAccount200JSONResponse{Body: body}, nil
}

// toAccountUpdate reads what to change from the validated body and, for the own limits, from the
// raw body as it was sent: a member left out keeps the limit, null or "tier" clears it,
// "unlimited" lifts it and a number sets it.
func toAccountUpdate(body *gen.AccountUpdate, raw []byte) (store.AccountUpdate, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		// The spec gate has accepted the body as an AccountUpdate object, so this is our fault.
		return store.AccountUpdate{}, fmt.Errorf("update account: read the validated body again: %w", err)
	}
	var u store.AccountUpdate
	if body.Tier != nil {
		u.Tier = store.Tier(*body.Tier)
	}
	var err error
	if u.RequestsPerMinute, err = toLimitUpdate(members, memberRequestsPerMinute); err != nil {
		return store.AccountUpdate{}, err
	}
	if u.AnalysesPerHour, err = toLimitUpdate(members, memberAnalysesPerHour); err != nil {
		return store.AccountUpdate{}, err
	}
	return u, nil
}

// toLimitUpdate reads one LimitOverride member. The spec gate has checked it already; the checks
// here keep a value the gate let through by mistake from reaching the store as something else.
func toLimitUpdate(members map[string]json.RawMessage, name string) (store.LimitUpdate, error) {
	raw, ok := members[name]
	if !ok {
		return store.KeepLimit(), nil
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return store.ClearLimit(), nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		switch gen.LimitOverride1(word) {
		case gen.LimitOverride1Tier:
			return store.ClearLimit(), nil
		case gen.LimitOverride1Unlimited:
			return store.SetLimit(store.Unlimited), nil
		}
		return store.LimitUpdate{}, invalidField(name, gen.InvalidFieldLocationBody, `must be a number, "unlimited", "tier" or null`)
	}
	// A float64 holds every whole number up to the largest limit exactly, and reads 300.0 or 3e2,
	// which JSON Schema counts as integers, where an int would refuse them.
	var n float64
	if json.Unmarshal(raw, &n) != nil || n != math.Trunc(n) || n < 1 || n > store.MaxOwnLimit {
		return store.LimitUpdate{}, invalidField(name, gen.InvalidFieldLocationBody,
			fmt.Sprintf(`must be a whole number from 1 to %d, "unlimited", "tier" or null`, store.MaxOwnLimit))
	}
	return store.SetLimit(int(n)), nil
}

// ToAccountLimits is the account with the limits in force for it, as updateAccount answers it.
// `ghl-debugger admin set-limits` prints the same. It fails only for an account the store should
// never hold: an unknown tier or an own limit out of range.
func ToAccountLimits(acc store.Account) (gen.AccountLimits, error) {
	in, err := limitsInForce(acc)
	if err != nil {
		return gen.AccountLimits{}, err
	}
	return gen.AccountLimits{Account: toAccount(acc), Limits: toLimitsInForce(in)}, nil
}

// toLimitsInForce converts the limits in force and where each comes from.
func toLimitsInForce(in tier.InForce) gen.LimitsInForce {
	return gen.LimitsInForce{
		RequestsPerMinute: toLimitInForce(in.RequestsPerMinute),
		AnalysesPerHour:   toLimitInForce(in.AnalysesPerHour),
	}
}

// toLimitInForce converts one limit in force; an unlimited one has no limit member.
func toLimitInForce(l tier.Limit) gen.LimitInForce {
	out := gen.LimitInForce{Unlimited: l.Unlimited(), Source: gen.LimitInForceSource(l.Source)}
	if !l.Unlimited() {
		out.Limit = new(int32(l.Value))
	}
	return out
}

// perWindow is a limit in force as gen.Limits reports it: 0 when it is lifted, as the spec says
// (its inForce member tells an unlimited budget from the others).
func perWindow(l tier.Limit) int32 {
	if l.Unlimited() {
		return 0
	}
	return int32(l.Value)
}
