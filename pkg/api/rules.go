package api

import (
	"context"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// rulesCacheControl lets browsers and shared caches keep the rule catalogue for an hour: it is
// public and changes only with the analyzer.
const rulesCacheControl = "public, max-age=3600"

// rulesETag validates every answer about the catalogue. The catalogue is compiled into the binary
// and analyzer.Version changes whenever a rule or its wording does, so the version identifies the
// content. The tag is weak because gzip gives the same content other bytes.
var rulesETag = `W/"rules-` + analyzer.Version + `"`

// ListRules returns the rule catalogue, or 304 when the caller's copy is current.
func (s *Server) ListRules(_ context.Context, req gen.ListRulesRequestObject) (gen.ListRulesResponseObject, error) {
	if etagMatches(req.Params.IfNoneMatch, rulesETag) {
		return gen.ListRules304Response{Headers: gen.ListRules304ResponseHeaders{CacheControl: rulesCacheControl, ETag: rulesETag}}, nil
	}
	return gen.ListRules200JSONResponse{
		Body:    gen.RuleList{AnalyzerVersion: analyzer.Version, Items: mapSlice(analyzer.Rules(), toRule)},
		Headers: gen.ListRules200ResponseHeaders{CacheControl: rulesCacheControl, ETag: rulesETag},
	}, nil
}

// GetRule returns one rule's documentation, or 304 when the caller's copy is current.
func (s *Server) GetRule(_ context.Context, req gen.GetRuleRequestObject) (gen.GetRuleResponseObject, error) {
	doc, ok := analyzer.Rule(req.RuleId)
	if !ok {
		return nil, newProblem(kindNotFound, "The rule catalogue has no rule "+req.RuleId+".", nil)
	}
	if etagMatches(req.Params.IfNoneMatch, rulesETag) {
		return gen.GetRule304Response{Headers: gen.GetRule304ResponseHeaders{CacheControl: rulesCacheControl, ETag: rulesETag}}, nil
	}
	return gen.GetRule200JSONResponse{
		Body:    toRule(doc),
		Headers: gen.GetRule200ResponseHeaders{CacheControl: rulesCacheControl, ETag: rulesETag},
	}, nil
}

// etagMatches applies If-None-Match (RFC 9110, section 13.1.2): "*" matches any current
// representation, otherwise one of the listed tags must equal etag by weak comparison, which
// ignores the W/ prefix.
func etagMatches(ifNoneMatch *string, etag string) bool {
	if ifNoneMatch == nil {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(*ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}

// toRule converts a rule's documentation.
func toRule(d analyzer.RuleDoc) gen.Rule {
	return gen.Rule{
		Id: d.ID, Category: d.Category, Severity: gen.Severity(d.Severity), Title: d.Title, Summary: d.Summary,
		Why: d.Why, Fix: d.Fix, Example: d.Example, Needs: mapSlice(d.Needs, func(n string) gen.RuleNeeds { return gen.RuleNeeds(n) }),
	}
}
