package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// cachedStore is the store behind the two-level cache: the reads that every request or every page
// of a dashboard makes (authentication, workflow lists, history pages) are answered from the cache,
// and every write that changes what they return invalidates it, on every instance (pkg/cache sends
// invalidations through Redis). The handlers do not know it is there. Keys carry the account, and the
// location or the key's hash, so one tenant can never be served another's entry.
type cachedStore struct {
	Store
	cache *cache.Cache
}

var _ Store = cachedStore{}

// NewCachedStore returns st behind c, as NewHandler uses it: for the command line, whose changes
// (an account's limits) must invalidate what the running instances cached, through Redis.
func NewCachedStore(st Store, c *cache.Cache) Store {
	return cachedStore{Store: st, cache: c}
}

// authEntry is what an API key authenticates, as the cache keeps it.
type authEntry struct {
	Account store.Account `json:"account"`
	Key     store.APIKey  `json:"key"`
}

// AuthenticateAPIKey reads a key's authentication through the cache. An unknown or revoked key is
// not cached (the store's ErrNotFound is a fill error), so a key created later works at once.
func (s cachedStore) AuthenticateAPIKey(ctx context.Context, hash string) (store.Account, store.APIKey, error) {
	e, err := cache.GetOrFill(ctx, s.cache, cache.KindAuth, cache.Scope{ID: hash}.Key(""), func(ctx context.Context) (*authEntry, error) {
		a, k, err := s.Store.AuthenticateAPIKey(ctx, hash)
		if err != nil {
			return nil, err
		}
		return &authEntry{Account: a, Key: k}, nil
	})
	if err != nil {
		return store.Account{}, store.APIKey{}, err
	}
	return e.Account, e.Key, nil
}

// RevokeAPIKey revokes the key and forgets the account's cached authentications, so the key is
// refused on every instance from the next request.
func (s cachedStore) RevokeAPIKey(ctx context.Context, accountID, keyID string) (store.APIKey, error) {
	k, err := s.Store.RevokeAPIKey(ctx, accountID, keyID)
	if err != nil {
		return k, err
	}
	return k, s.forgetKeys(ctx, accountID)
}

// UpdateAccount changes the account and forgets its cached authentications, which carry its tier
// and limits.
func (s cachedStore) UpdateAccount(ctx context.Context, id string, u store.AccountUpdate) (store.Account, error) {
	a, err := s.Store.UpdateAccount(ctx, id, u)
	if err != nil {
		return a, err
	}
	return a, s.forgetKeys(ctx, id)
}

// forgetKeys drops the cached authentication of every key of the account.
func (s cachedStore) forgetKeys(ctx context.Context, accountID string) error {
	hashes, err := s.Store.APIKeyHashes(ctx, accountID)
	if err != nil {
		return fmt.Errorf("forget cached keys of %s: %w", accountID, err)
	}
	keys := make([]cache.Key, len(hashes))
	for i, h := range hashes {
		keys[i] = cache.Scope{ID: h}.Key("")
	}
	if err := s.cache.Delete(ctx, cache.KindAuth, keys...); err != nil {
		return fmt.Errorf("forget cached keys of %s: %w", accountID, err)
	}
	return nil
}

// workflowPage is one page of a location's workflow list, as the cache keeps it.
type workflowPage struct {
	Items []store.Workflow `json:"items"`
	Next  string           `json:"next"`
}

// ListWorkflows reads a page of a location's workflows through the cache. The key holds the
// account's workflow-list generation as well as the location's (in the scope), because reusing an
// analysis moves the workflows' last-analysis grades without saying which location it is.
func (s cachedStore) ListWorkflows(ctx context.Context, accountID, locationID, status string, p store.Page) ([]store.Workflow, string, error) {
	accountGen, err := s.cache.Generation(ctx, cache.Scope{Account: accountID}, cache.KindWorkflowList)
	if err != nil {
		return nil, "", fmt.Errorf("list workflows: %w", err)
	}
	item := accountGen.String() + "|" + workflowFilterKey(status) + pageKey(p)
	page, err := cache.GetOrFill(ctx, s.cache, cache.KindWorkflowList, cache.Scope{Account: accountID, ID: locationID}.Key(item),
		func(ctx context.Context) (*workflowPage, error) {
			items, next, err := s.Store.ListWorkflows(ctx, accountID, locationID, status, p)
			if err != nil {
				return nil, err
			}
			return &workflowPage{Items: items, Next: next}, nil
		}, largePage(p)...)
	if err != nil {
		return nil, "", err
	}
	return page.Items, page.Next, nil
}

// ghlOfPage is what the syncs recorded of a page's workflows, as the cache keeps it.
type ghlOfPage struct {
	ByID map[string]store.GHLWorkflow `json:"byId"`
}

// GHLWorkflowsOf reads what the syncs recorded of a page of a location's workflows through the
// cache, beside the page itself (KindWorkflowList, the location's generation): an import or a
// deletion (which change the imported versions) bumps it as for the page, and a sync that changes
// anything, or a disconnect, bumps it too (ghl.Service). The key is a hash of the ids asked for.
func (s cachedStore) GHLWorkflowsOf(ctx context.Context, accountID, locationID string, ghlIDs []string) (map[string]store.GHLWorkflow, error) {
	h := sha256.New()
	for _, id := range ghlIDs {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	item := "ghl-of|" + hex.EncodeToString(h.Sum(nil)[:16])
	page, err := cache.GetOrFill(ctx, s.cache, cache.KindWorkflowList, cache.Scope{Account: accountID, ID: locationID}.Key(item),
		func(ctx context.Context) (*ghlOfPage, error) {
			byID, err := s.Store.GHLWorkflowsOf(ctx, accountID, locationID, ghlIDs)
			if err != nil {
				return nil, err
			}
			return &ghlOfPage{ByID: byID}, nil
		})
	if err != nil {
		return nil, err
	}
	return page.ByID, nil
}

// historyPage is one page of a location's history, as the cache keeps it.
type historyPage struct {
	Items []store.AnalysisSummary `json:"items"`
	Next  string                  `json:"next"`
}

// ListAnalyses reads a page of a location's history through the cache.
func (s cachedStore) ListAnalyses(ctx context.Context, accountID, locationID string, f store.HistoryFilter, p store.Page) ([]store.AnalysisSummary, string, error) {
	item := historyFilterKey(f) + pageKey(p)
	page, err := cache.GetOrFill(ctx, s.cache, cache.KindHistoryPage, cache.Scope{Account: accountID, ID: locationID}.Key(item),
		func(ctx context.Context) (*historyPage, error) {
			items, next, err := s.Store.ListAnalyses(ctx, accountID, locationID, f, p)
			if err != nil {
				return nil, err
			}
			return &historyPage{Items: items, Next: next}, nil
		}, largePage(p)...)
	if err != nil {
		return nil, "", err
	}
	return page.Items, page.Next, nil
}

// workflowFilterKey writes a workflow list's filter for a cache key or a validator.
func workflowFilterKey(status string) string { return "status=" + status }

// historyFilterKey writes a history page's filter for a cache key or a validator.
func historyFilterKey(f store.HistoryFilter) string {
	return "wf=" + f.WorkflowID + "|rule=" + f.RuleID + "|min=" + strconv.Itoa(f.MinSeverity) +
		"|since=" + timeKey(f.Since) + "|until=" + timeKey(f.Until)
}

// pageKey writes a page's size and cursor for a cache key or a validator.
func pageKey(p store.Page) string {
	return "|limit=" + strconv.Itoa(p.Limit) + "|cursor=" + p.Cursor
}

// listETag is the weak validator of a page of a location's list of kind: the generations its
// content depends on (the location's, and for workflow lists also the account's, which reused
// analyses move) and a hash of the page's filter and parameters.
func (s *Server) listETag(ctx context.Context, kind cache.Kind, accountID, locationID, filter string, page store.Page) (string, error) {
	loc, err := s.cache.Generation(ctx, cache.Scope{Account: accountID, ID: locationID}, kind)
	if err != nil {
		return "", fmt.Errorf("list validator: %w", err)
	}
	gens := loc.String()
	if kind == cache.KindWorkflowList {
		acc, err := s.cache.Generation(ctx, cache.Scope{Account: accountID}, kind)
		if err != nil {
			return "", fmt.Errorf("list validator: %w", err)
		}
		gens += "." + acc.String()
	}
	sum := sha256.Sum256([]byte(filter + pageKey(page)))
	return `W/"` + gens + "-" + hex.EncodeToString(sum[:8]) + `"`, nil
}

// largePageLimit is the page size from which filling a page is worth a lock across instances.
const largePageLimit = 100

// largePage marks the fill of a large page as expensive: concurrent misses on several instances
// then read the database once.
func largePage(p store.Page) []cache.Option {
	if p.Limit >= largePageLimit {
		return []cache.Option{cache.Expensive()}
	}
	return nil
}

// timeKey writes an optional time for a cache key.
func timeKey(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ImportWorkflows imports and invalidates the location's lists.
func (s cachedStore) ImportWorkflows(ctx context.Context, accountID, locationID string, wfs []store.ImportedWorkflow, locContext json.RawMessage) (store.ImportOutcome, error) {
	out, err := s.Store.ImportWorkflows(ctx, accountID, locationID, wfs, locContext)
	return out, s.changed(ctx, accountID, locationID, err)
}

// DeleteWorkflow deletes and invalidates the location's lists.
func (s cachedStore) DeleteWorkflow(ctx context.Context, accountID, locationID, workflowID string) error {
	return s.changed(ctx, accountID, locationID, s.Store.DeleteWorkflow(ctx, accountID, locationID, workflowID))
}

// PutContext stores the context and invalidates the location's lists.
func (s cachedStore) PutContext(ctx context.Context, accountID, locationID string, c json.RawMessage) error {
	return s.changed(ctx, accountID, locationID, s.Store.PutContext(ctx, accountID, locationID, c))
}

// CreateAnalysis stores an analysis, which joins its location's history and becomes its workflows'
// last analysis, and invalidates the location's lists.
func (s cachedStore) CreateAnalysis(ctx context.Context, accountID string, in store.NewAnalysis) (store.Analysis, error) {
	a, err := s.Store.CreateAnalysis(ctx, accountID, in)
	if in.LocationID == "" {
		return a, err
	}
	return a, s.changed(ctx, accountID, in.LocationID, err)
}

// PointLastAnalysis moves workflows' last analysis, which their lists show, and invalidates the
// account's workflow lists (the store does not say which location the analysis is of).
func (s cachedStore) PointLastAnalysis(ctx context.Context, accountID, analysisID string) error {
	if err := s.Store.PointLastAnalysis(ctx, accountID, analysisID); err != nil {
		return err
	}
	return s.cache.Bump(ctx, cache.Scope{Account: accountID}, cache.KindWorkflowList)
}

// DeleteLocation deletes the location, its workflows and its analyses, and invalidates its lists
// and the account's analyses.
func (s cachedStore) DeleteLocation(ctx context.Context, accountID, id string) error {
	if err := s.changed(ctx, accountID, id, s.Store.DeleteLocation(ctx, accountID, id)); err != nil {
		return err
	}
	return s.cache.Bump(ctx, cache.Scope{Account: accountID}, cache.KindAnalysis)
}

// changed invalidates every list of a location after a write that ended with err; a write that
// failed changed nothing, and its error is returned as it is. Only the kinds cached by location are
// bumped: analyses are keyed by account, and each bump is a Redis call and a message to every
// instance.
func (s cachedStore) changed(ctx context.Context, accountID, locationID string, err error) error {
	if err != nil {
		return err
	}
	if err := s.cache.Bump(ctx, cache.Scope{Account: accountID, ID: locationID}, cache.KindWorkflowList, cache.KindHistoryPage); err != nil {
		return fmt.Errorf("invalidate the cache of %s: %w", locationID, err)
	}
	return nil
}
