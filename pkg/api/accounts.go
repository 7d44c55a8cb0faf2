package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// UpdateAccount changes an account's tier, for operators: it needs an admin account's key, and any
// other key is forbidden. The account's own limits are not supported yet: a body naming them
// answers 400 until the store keeps them.
func (s *Server) UpdateAccount(ctx context.Context, req gen.UpdateAccountRequestObject) (gen.UpdateAccountResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Account.IsAdmin {
		return nil, newProblem(kindForbidden, "This operation needs an admin account's API key.", nil)
	}
	if req.Body == nil {
		return nil, errors.New("update account: no request body after validation")
	}
	if req.Body.RequestsPerMinute != nil || req.Body.AnalysesPerHour != nil {
		return nil, newProblem(kindBadRequest, "An account's own limits cannot be set yet; only its tier can change.", nil)
	}
	if req.Body.Tier == nil {
		return nil, newProblem(kindBadRequest, "Name what to change.", nil)
	}
	acc, err := s.store.SetAccountTier(ctx, req.AccountId, store.Tier(*req.Body.Tier))
	if err != nil {
		return nil, err
	}
	limits, ok := tier.LimitsFor(tier.Name(acc.Tier))
	if !ok {
		return nil, fmt.Errorf("account %s has unknown tier %q", acc.ID, acc.Tier)
	}
	return gen.UpdateAccount200JSONResponse{Body: gen.AccountLimits{
		Account: toAccount(acc),
		Limits: gen.LimitsInForce{
			RequestsPerMinute: gen.LimitInForce{Limit: new(int32(limits.RequestsPerMinute)), Source: "tier"},
			AnalysesPerHour:   gen.LimitInForce{Limit: new(int32(limits.AnalysesPerHour)), Source: "tier"},
		},
	}}, nil
}
