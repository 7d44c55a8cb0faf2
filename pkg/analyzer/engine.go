package analyzer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
)

// Version identifies the analyzer's rules and scoring. It is part of every result's key: bump it when
// a rule, a message or the scoring changes, so stored results computed by older code are not reused.
const Version = "1.1.0"

// Severities, from most to least serious.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// SeverityRank orders severities: error 3, warning 2, info 1, anything else 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Data a rule needs, as rules.md names it.
const (
	NeedsWorkflow = "WF"
	NeedsLocation = "LOC"
	NeedsContext  = "CTX"
)

// RuleDoc documents one rule: what it finds, why it matters and how to fix it.
type RuleDoc struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	// Severity is the rule's usual severity; a finding may raise or lower it as the rule's doc says.
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Summary is the one-line description of what the rule detects.
	Summary string `json:"summary"`
	Why     string `json:"why"`
	Fix     string `json:"fix"`
	// Example is a short description of a workflow that triggers the rule.
	Example string   `json:"example"`
	Needs   []string `json:"needs"`
}

// Finding is one problem the analyzer found.
type Finding struct {
	RuleID       string `json:"ruleId"`
	Category     string `json:"category"`
	Severity     string `json:"severity"`
	Title        string `json:"title"`
	WorkflowID   string `json:"workflowId,omitempty"`
	WorkflowName string `json:"workflowName,omitempty"`
	StepID       string `json:"stepId,omitempty"`
	StepName     string `json:"stepName,omitempty"`
	Message      string `json:"message"`
	Why          string `json:"why"`
	Fix          string `json:"fix"`
	// Related names the other workflows or steps involved, such as every workflow of a cycle.
	Related []string `json:"related,omitempty"`
}

// NotAssessed records a rule that could not run for lack of data. An empty WorkflowID means the whole
// location.
type NotAssessed struct {
	RuleID     string `json:"ruleId"`
	WorkflowID string `json:"workflowId,omitempty"`
	Reason     string `json:"reason"`
}

// rule is a catalogue entry: its doc and exactly one check, per workflow or per location.
type rule struct {
	doc      RuleDoc
	workflow func(p *pass)
	location func(p *pass)
	// structural marks a rule that judges only how steps are connected, never what a step is
	// configured to do, so a step's unread parts do not stop its findings. Every other rule's
	// finding at a step with unread parts becomes a not-assessed line naming them (see Unread).
	structural bool
}

var catalogue []*rule

// register adds rules to the catalogue; rule files call it from init.
func register(rs ...*rule) {
	catalogue = append(catalogue, rs...)
	sort.Slice(catalogue, func(i, j int) bool { return catalogue[i].doc.ID < catalogue[j].doc.ID })
}

// Rules returns the documentation of every rule, ordered by id.
func Rules() []RuleDoc {
	docs := make([]RuleDoc, len(catalogue))
	for i, r := range catalogue {
		docs[i] = r.doc
	}
	return docs
}

// Rule returns the documentation of one rule.
func Rule(id string) (RuleDoc, bool) {
	for _, r := range catalogue {
		if r.doc.ID == id {
			return r.doc, true
		}
	}
	return RuleDoc{}, false
}

// pass is what a rule's check sees: the location, its index and, for workflow rules, one workflow
// and its graph. Checks report through it.
type pass struct {
	loc  *Location
	idx  *locIndex
	wf   *Workflow
	g    *graph
	rule *rule
	res  *result
}

type result struct {
	findings    []Finding
	notAssessed []NotAssessed
}

// on returns a pass for workflow wf, so a location rule can report and record not-assessed lines per
// workflow with the workflow's own step names.
func (p *pass) on(wf *Workflow) *pass {
	sub := *p
	sub.wf, sub.g = wf, p.idx.graph(wf)
	return &sub
}

// workflowIndexes yields the index of every workflow of the location in order, for location rules that
// walk them all. It stops early once the analysis is cancelled, whose result is then discarded.
func (p *pass) workflowIndexes() iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range p.loc.Workflows {
			if p.idx.stopped() || !yield(i) {
				return
			}
		}
	}
}

// report records a finding at the rule's usual severity. stepID may be empty.
func (p *pass) report(stepID, format string, args ...any) {
	p.reportAt(p.rule.doc.Severity, stepID, format, args...)
}

// reportAt records a finding with an explicit severity.
func (p *pass) reportAt(severity, stepID, format string, args ...any) {
	if p.wf != nil && p.unreadStep(p.wf, p.g, stepID) {
		return
	}
	f := Finding{
		RuleID: p.rule.doc.ID, Category: p.rule.doc.Category, Severity: severity, Title: p.rule.doc.Title,
		StepID: stepID, Message: sentence(fmt.Sprintf(format, args...)), Why: p.rule.doc.Why, Fix: p.rule.doc.Fix,
	}
	if p.wf != nil {
		f.WorkflowID, f.WorkflowName = p.wf.ID, p.wf.Name
		if s := p.g.step(stepID); s != nil {
			f.StepName = s.Name
		}
	}
	p.res.findings = append(p.res.findings, f)
}

// reportWorkflow records a finding about another workflow than the pass's own (location rules).
func (p *pass) reportWorkflow(wf *Workflow, severity, stepID string, related []string, format string, args ...any) {
	if p.unreadStep(wf, p.idx.graph(wf), stepID) {
		return
	}
	f := Finding{
		RuleID: p.rule.doc.ID, Category: p.rule.doc.Category, Severity: severity, Title: p.rule.doc.Title,
		WorkflowID: wf.ID, WorkflowName: wf.Name, StepID: stepID, Message: sentence(fmt.Sprintf(format, args...)),
		Why: p.rule.doc.Why, Fix: p.rule.doc.Fix, Related: related,
	}
	if s := p.idx.graph(wf).step(stepID); s != nil {
		f.StepName = s.Name
	}
	p.res.findings = append(p.res.findings, f)
}

// unreadStep reports whether a finding of the pass's rule at step stepID of wf would rest on parts of
// the step the importer could not read; it then records the step as not assessed instead.
func (p *pass) unreadStep(wf *Workflow, g *graph, stepID string) bool {
	if stepID == "" || p.rule.structural {
		return false
	}
	s := g.step(stepID)
	if s == nil || len(s.Unread) == 0 {
		return false
	}
	p.stepNotAssessed(wf, s)
	return true
}

// stepNotAssessed records that the rule does not judge step s of wf because of its unread parts.
func (p *pass) stepNotAssessed(wf *Workflow, s *Step) {
	p.res.notAssessed = append(p.res.notAssessed, NotAssessed{RuleID: p.rule.doc.ID, WorkflowID: wf.ID,
		Reason: fmt.Sprintf("step %s holds %s, which the analyzer cannot read, so this rule does not judge it", stepLabel(s), unreadText(s.Unread))})
}

// notAssessed records that the rule could not judge the pass's workflow (or the location) and why.
func (p *pass) notAssessed(reason string) {
	na := NotAssessed{RuleID: p.rule.doc.ID, Reason: reason}
	if p.wf != nil {
		na.WorkflowID = p.wf.ID
	}
	p.res.notAssessed = append(p.res.notAssessed, na)
}

// sentence ends a message with a full stop unless it already ends a sentence, so every message reads
// the same in reports whichever rule wrote it.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// stepLabel names a step for a message: its name in quotes, or its id.
func stepLabel(s *Step) string {
	if s == nil {
		return "an unknown step"
	}
	if s.Name != "" {
		return fmt.Sprintf("%q", s.Name)
	}
	return fmt.Sprintf("step %s", s.ID)
}

// Counts counts findings by severity.
type Counts struct {
	Error   int `json:"error"`
	Warning int `json:"warning"`
	Info    int `json:"info"`
}

// MaxRank is the SeverityRank of the most serious counted finding, 0 when there is none.
func (c Counts) MaxRank() int {
	switch {
	case c.Error > 0:
		return SeverityRank(SeverityError)
	case c.Warning > 0:
		return SeverityRank(SeverityWarning)
	case c.Info > 0:
		return SeverityRank(SeverityInfo)
	}
	return 0
}

func (c *Counts) add(severity string) {
	switch severity {
	case SeverityError:
		c.Error++
	case SeverityWarning:
		c.Warning++
	case SeverityInfo:
		c.Info++
	}
}

// WorkflowSummary is one workflow's result.
type WorkflowSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Steps  int    `json:"steps"`
	Score  int    `json:"score"`
	Grade  string `json:"grade"`
	Counts Counts `json:"counts"`
	// UnknownTypes lists step and trigger types the importer did not recognise.
	UnknownTypes []string `json:"unknownTypes,omitempty"`
	// Coverage is how much of this workflow's steps and triggers the analyzer could read.
	Coverage Coverage `json:"coverage"`
}

// Report is the result of analysing a location. The same input and Version give a byte-identical
// report when marshalled.
type Report struct {
	AnalyzerVersion string `json:"analyzerVersion"`
	// ContentHash identifies the analysed input: sha256 of the normalized model and the analyzer version.
	ContentHash string            `json:"contentHash"`
	LocationID  string            `json:"locationId,omitempty"`
	Score       int               `json:"score"`
	Grade       string            `json:"grade"`
	Counts      Counts            `json:"counts"`
	Workflows   []WorkflowSummary `json:"workflows"`
	Findings    []Finding         `json:"findings"`
	NotAssessed []NotAssessed     `json:"notAssessed"`
	// Coverage is how much of the location's steps and triggers the analyzer could read; findings
	// never rest on what it could not (those pairs are listed under NotAssessed).
	Coverage Coverage `json:"coverage"`
}

// Analyze runs every rule on the location and scores the result.
func Analyze(loc *Location) *Report {
	rep, err := AnalyzeContext(context.Background(), loc)
	if err != nil {
		// Unreachable: only a cancelled context stops an analysis, and the background one never is.
		panic("analyzer: " + err.Error())
	}
	return rep
}

// AnalyzeContext is Analyze under a context: it checks ctx between rules, between the workflows each
// rule looks at and every few thousand context objects an index reads, so a cancelled or expired ctx
// stops even a large analysis within milliseconds. It then returns no report and ctx's error, wrapped
// (errors.Is(err, context.DeadlineExceeded) tells a deadline from a cancellation).
func AnalyzeContext(ctx context.Context, loc *Location) (*Report, error) {
	idx := newLocIndex(loc)
	idx.cancel = ctx
	res := &result{}
	for _, r := range catalogue {
		if idx.stopped() {
			break
		}
		if r.location != nil {
			r.location(&pass{loc: loc, idx: idx, rule: r, res: res})
			continue
		}
		for i := range loc.Workflows {
			if idx.stopped() {
				break
			}
			wf := &loc.Workflows[i]
			r.workflow(&pass{loc: loc, idx: idx, wf: wf, g: idx.graph(wf), rule: r, res: res})
		}
	}
	// Rules that saw the cancellation stopped part-way, so what they found is incomplete: no report.
	if idx.stopped() {
		return nil, fmt.Errorf("analyze location %s: %w", loc.ID, ctx.Err())
	}
	rep := &Report{
		AnalyzerVersion: Version, ContentHash: ContentHash(loc), LocationID: loc.ID,
		Findings: res.findings, NotAssessed: res.notAssessed,
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	if rep.NotAssessed == nil {
		rep.NotAssessed = []NotAssessed{}
	}
	slices.SortStableFunc(rep.Findings, compareFindings)
	rep.Findings = slices.CompactFunc(rep.Findings, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
	slices.SortFunc(rep.NotAssessed, func(a, b NotAssessed) int {
		return cmp.Or(cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.WorkflowID, b.WorkflowID), cmp.Compare(a.Reason, b.Reason))
	})
	rep.NotAssessed = slices.Compact(rep.NotAssessed)
	score(loc, rep)
	return rep, nil
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.WorkflowID, b.WorkflowID),
		cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.StepID, b.StepID),
		cmp.Compare(a.Message, b.Message),
	)
}

// WorkflowHash is the content hash of one workflow's result narrowed from a location's (Report.Only):
// derived from the location's content hash and the workflow id, so a caller can look a narrowed
// result up before analysing.
func WorkflowHash(locationHash, workflowID string) string {
	h := sha256.Sum256([]byte(locationHash + "\x00workflow:" + workflowID))
	return hex.EncodeToString(h[:])
}
