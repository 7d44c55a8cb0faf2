// Package report renders an analysis as the client report: one self-contained HTML page that a
// person opens in a browser, prints to PDF or receives as an e-mail attachment. It shows the
// location's grade and verdict, the findings ranked by what they cost a contact, a flowchart of every
// workflow with each finding's marker on its step, the graph of which workflow starts which, the
// rules not assessed and the coverage line. RenderDiff renders the before/after comparison of two
// analyses, and WriteDiffMarkdown its Markdown version (the single report's Markdown is the
// analyzer's).
//
// The page references nothing outside itself: styles are inline, drawings are inline SVG laid out by
// Graphviz's dot (see layout.go), and the only links are to places on the page.
package report

import (
	"bufio"
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

//go:embed templates/*
var templateFiles embed.FS

var templates = template.Must(template.New("").ParseFS(templateFiles, "templates/*"))

// Options say what a report is drawn from besides the analysis.
type Options struct {
	// Location is the analysed input, whose workflows are drawn. Nil leaves the drawings out; the
	// findings and everything else are still reported. Workflows are matched to the report by id.
	Location *analyzer.Location
	// NoDrawings says why Location is nil, in a sentence the page shows in place of the drawings. An
	// empty one is replaced by a general sentence.
	NoDrawings string
}

// Render writes the HTML report of rep. The same report and options give the same bytes.
func Render(ctx context.Context, w io.Writer, rep *analyzer.Report, opts Options) error {
	p, err := newPage(ctx, rep, opts)
	if err != nil {
		return err
	}
	return execute(w, "report.html.tmpl", p)
}

// Diff is the before/after comparison of two analyses of the same location and scope: the findings
// as the API's diff pairs them (fixed are From's, new and unchanged are To's).
type Diff struct {
	From, To *analyzer.Report
	// FromLabel and ToLabel name the two analyses on the page, such as their ids and dates.
	FromLabel, ToLabel    string
	Fixed, New, Unchanged []analyzer.Finding
}

// RenderDiff writes the HTML before/after report of d.
func RenderDiff(w io.Writer, d Diff) error {
	if d.From == nil || d.To == nil {
		return fmt.Errorf("render diff: both reports are needed")
	}
	return execute(w, "diff.html.tmpl", newDiffPage(d))
}

func execute(w io.Writer, name string, data any) error {
	b := bufio.NewWriterSize(w, 64<<10)
	if err := templates.ExecuteTemplate(b, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// page is what report.html.tmpl shows.
type page struct {
	Title           string
	LocationID      string
	Score           int
	Grade           string
	Verdict         string
	Counts          analyzer.Counts
	Workflows       int
	AnalyzerVersion string
	ContentHash     string
	Categories      []categoryRow
	Findings        []findingView
	Sections        []section
	LocGraph        *drawing
	LocGraphNote    string
	NotAssessed     []notAssessedView
	Coverage        string
	NoDrawings      string
}

type categoryRow struct {
	Name                        string
	Error, Warning, Info, Total int
}

// findingView is one finding on the page. N numbers findings in the report's order, so anchors stay
// the same however the list is ranked.
type findingView struct {
	N                            int
	ID                           string
	Severity, SeverityWord, Sign string
	RuleID, Title, Category      string
	Workflow, WorkflowHref       string
	Where                        string
	Message, Why, Fix            string
	// MarkerHref links to the finding's marker on a drawing, empty when it is not drawn.
	MarkerHref string
}

// section is one workflow's part of the page.
type section struct {
	ID, Name, WorkflowID, Status string
	Steps, Score                 int
	Grade                        string
	Counts                       analyzer.Counts
	Drawing                      *drawing
	Note                         string
	Findings                     []findingView
}

type notAssessedView struct {
	RuleID, Scope, ScopeHref, Reason string
}

// findingID and markerID are the anchors of finding n and of its marker.
func findingID(n int) string { return "finding-" + strconv.Itoa(n) }
func markerID(n int) string  { return "marker-" + strconv.Itoa(n) }

func newPage(ctx context.Context, rep *analyzer.Report, opts Options) (*page, error) {
	p := &page{
		LocationID: rep.LocationID, Score: rep.Score, Grade: rep.Grade, Counts: rep.Counts,
		Workflows: len(rep.Workflows), AnalyzerVersion: rep.AnalyzerVersion, ContentHash: rep.ContentHash,
		Verdict: verdict(rep), Coverage: rep.Coverage.Line(), Categories: categories(rep.Findings),
	}
	p.Title = fmt.Sprintf("Workflow health report: grade %s (%d)", rep.Grade, rep.Score)
	if rep.LocationID != "" {
		p.Title += ", location " + rep.LocationID
	}

	anchors := map[string]string{}
	for i, s := range rep.Workflows {
		if _, dup := anchors[s.ID]; !dup {
			anchors[s.ID] = "wf-" + strconv.Itoa(i+1)
		}
	}
	views := make([]findingView, len(rep.Findings))
	for i, f := range rep.Findings {
		views[i] = newFindingView(i+1, f, anchors)
	}

	var workflows map[string]*analyzer.Workflow
	if opts.Location != nil {
		workflows = make(map[string]*analyzer.Workflow, len(opts.Location.Workflows))
		for i := range opts.Location.Workflows {
			wf := &opts.Location.Workflows[i]
			if _, dup := workflows[wf.ID]; !dup {
				workflows[wf.ID] = wf
			}
		}
	} else {
		p.NoDrawings = cmp.Or(opts.NoDrawings, "The analysed workflows were not available, so this report has no drawings.")
	}

	// Markers: each finding of a drawn workflow goes on its step, or on the workflow as a whole.
	byWorkflow := map[string][]int{}
	for i, f := range rep.Findings {
		byWorkflow[f.WorkflowID] = append(byWorkflow[f.WorkflowID], i)
	}
	messages := make(map[int]string, len(rep.Findings))
	for i, f := range rep.Findings {
		messages[i+1] = f.Message
	}
	drawn := map[string]bool{}
	var budget drawingBudget
	// Charts are collected first and laid out together (layAll); drawingOf says where each goes.
	var charts []*chart
	var drawingOf []**drawing
	for i, s := range rep.Workflows {
		sec := section{
			ID: "wf-" + strconv.Itoa(i+1), Name: cmp.Or(s.Name, "(unnamed workflow)"), WorkflowID: s.ID, Status: s.Status,
			Steps: s.Steps, Score: s.Score, Grade: s.Grade, Counts: s.Counts,
		}
		first := anchors[s.ID] == sec.ID
		if first {
			for _, k := range byWorkflow[s.ID] {
				sec.Findings = append(sec.Findings, views[k])
			}
		}
		wf := workflows[s.ID]
		switch {
		case opts.Location == nil:
		case !first:
			sec.Note = "This workflow id appears twice in the input; its findings and drawing are with the first."
		case wf == nil:
			sec.Note = "This workflow is not in the analysed input given to the report, so it is not drawn."
		default:
			byStep := map[string][]marker{}
			stepIDs := make(map[string]bool, len(wf.Steps))
			for _, st := range wf.Steps {
				stepIDs[st.ID] = true
			}
			var whole []marker
			for _, k := range byWorkflow[s.ID] {
				f := rep.Findings[k]
				m := marker{n: k + 1, severity: f.Severity, label: markerLabel(views[k])}
				if f.StepID != "" && stepIDs[f.StepID] {
					byStep[f.StepID] = append(byStep[f.StepID], m)
				} else {
					whole = append(whole, m)
				}
			}
			c := workflowChart(sec.ID+"-drawing", wf, byStep, whole, messages)
			if sec.Note = budget.admit(c); sec.Note == "" {
				charts = append(charts, c)
				drawn[s.ID] = true
			}
		}
		p.Sections = append(p.Sections, sec)
	}
	for i := range p.Sections {
		if drawn[p.Sections[i].WorkflowID] && anchors[p.Sections[i].WorkflowID] == p.Sections[i].ID {
			drawingOf = append(drawingOf, &p.Sections[i].Drawing)
		}
	}

	if opts.Location != nil && len(rep.Workflows) > 1 {
		var whole []marker
		for _, k := range byWorkflow[""] {
			whole = append(whole, marker{n: k + 1, severity: rep.Findings[k].Severity, label: markerLabel(views[k])})
		}
		c, cycles := locationChart(opts.Location, analyzer.Links(opts.Location), anchors, whole)
		switch {
		case c == nil:
			p.LocGraphNote = "No workflow starts another: no step adds a tag, writes a field, moves a stage or adds to a workflow that another workflow's trigger listens to."
		case cycles > 0:
			p.LocGraphNote = fmt.Sprintf("%d %s of this graph %s on a cycle: a contact can go round those workflows again and again.", cycles, analyzer.Plural(cycles, "arrow"), isAre(cycles))
		default:
			p.LocGraphNote = "No workflows start each other in a cycle."
		}
		if c != nil {
			if note := budget.admit(c); note != "" {
				p.LocGraphNote = note
			} else {
				charts = append(charts, c)
				drawingOf = append(drawingOf, &p.LocGraph)
				drawn[""] = true
			}
		}
	}
	drawings, err := layAll(ctx, charts)
	if err != nil {
		return nil, fmt.Errorf("draw the report: %w", err)
	}
	for i, d := range drawings {
		*drawingOf[i] = d
	}
	for i := range views {
		if drawn[rep.Findings[i].WorkflowID] {
			views[i].MarkerHref = "#" + markerID(views[i].N)
		}
	}
	for si := range p.Sections {
		for k := range p.Sections[si].Findings {
			n := p.Sections[si].Findings[k].N
			p.Sections[si].Findings[k] = views[n-1]
		}
	}
	p.Findings = rank(views, rep.Findings, workflows)

	for _, n := range rep.NotAssessed {
		v := notAssessedView{RuleID: n.RuleID, Scope: "Whole location", Reason: n.Reason}
		if n.WorkflowID != "" {
			v.Scope, v.ScopeHref = n.WorkflowID, "#"+anchors[n.WorkflowID]
			if i := slices.IndexFunc(rep.Workflows, func(s analyzer.WorkflowSummary) bool { return s.ID == n.WorkflowID }); i >= 0 {
				v.Scope = cmp.Or(rep.Workflows[i].Name, n.WorkflowID)
			} else {
				v.ScopeHref = ""
			}
		}
		p.NotAssessed = append(p.NotAssessed, v)
	}
	return p, nil
}

// Drawing limits. Dot's time grows faster than the boxes it places (a 1,000-step workflow with a
// branch every five steps, about 800 boxes, takes 1.7 s; 3,000 steps take 16 s), and a chart of
// hundreds of boxes is no longer read at a glance. A chart with more boxes than maxChartBoxes, after
// runs of plain steps are collapsed, is not drawn; and once a report's drawings hold
// maxReportBoxes boxes the rest are not drawn, so no input can hold the layout engine, which lays
// out one graph at a time for the whole process, for more than a few seconds. Their findings are
// still listed, without markers.
const (
	maxChartBoxes  = 400
	maxReportBoxes = 6000
)

// drawingBudget counts the boxes of a report's drawings against the limits.
type drawingBudget struct{ boxes int }

// admit takes c into the budget and returns "", or returns why c is not drawn.
func (b *drawingBudget) admit(c *chart) string {
	n := len(c.nodes)
	switch {
	case n > maxChartBoxes:
		return fmt.Sprintf("This drawing would need %d boxes, even with runs of plain steps drawn as one, more than stay legible (%d), so it is left out; the findings are listed without markers.", n, maxChartBoxes)
	case b.boxes+n > maxReportBoxes:
		return fmt.Sprintf("The drawings of this report stop at %d boxes, so this one is left out; the findings are listed without markers.", maxReportBoxes)
	}
	b.boxes += n
	return ""
}

func newFindingView(n int, f analyzer.Finding, anchors map[string]string) findingView {
	v := findingView{
		N: n, ID: findingID(n), Severity: f.Severity, SeverityWord: severityWord(f.Severity), Sign: severitySign(f.Severity),
		RuleID: f.RuleID, Title: f.Title, Category: f.Category, Message: f.Message, Why: f.Why, Fix: f.Fix,
	}
	if f.WorkflowID != "" {
		v.Workflow = cmp.Or(f.WorkflowName, f.WorkflowID)
		if a, ok := anchors[f.WorkflowID]; ok {
			v.WorkflowHref = "#" + a
		}
	}
	switch {
	case f.StepName != "":
		v.Where = fmt.Sprintf("step %q", f.StepName)
	case f.StepID != "":
		v.Where = "step " + f.StepID
	}
	return v
}

func markerLabel(v findingView) string {
	return fmt.Sprintf("%s %d: %s (%s)", v.SeverityWord, v.N, v.Title, v.RuleID)
}

// categoryWeight is the report's order of categories by what their findings cost a contact, used
// after severity: compliance findings put the contact (and the agency) at legal risk, cross-workflow
// and graph findings send contacts round loops or leave them stuck, trigger findings start the wrong
// contacts or none, waits mistime messages, references break quietly, and settings change behaviour
// at the margins.
var categoryWeight = map[string]int{
	"compliance": 7, "cross-workflow": 6, "graph": 5, "triggers": 4, "waits": 3, "references": 2, "settings": 1,
}

// rank orders findings by what they cost a contact: severity first (errors misfire for normal
// traffic), then the rule's own weight (its usual severity, then its category's weight), then
// findings of running workflows before drafts (a draft costs no contact today), then the report's
// order.
func rank(views []findingView, findings []analyzer.Finding, workflows map[string]*analyzer.Workflow) []findingView {
	type keyed struct {
		v                          findingView
		sev, ruleSev, weight, live int
	}
	ks := make([]keyed, len(views))
	for i, v := range views {
		f := findings[i]
		k := keyed{v: v, sev: analyzer.SeverityRank(f.Severity), weight: categoryWeight[f.Category], live: 1}
		if doc, ok := analyzer.Rule(f.RuleID); ok {
			k.ruleSev = analyzer.SeverityRank(doc.Severity)
		}
		if wf := workflows[f.WorkflowID]; wf != nil && wf.Status == analyzer.StatusDraft {
			k.live = 0
		}
		ks[i] = k
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(b.sev, a.sev), cmp.Compare(b.ruleSev, a.ruleSev), cmp.Compare(b.weight, a.weight),
			cmp.Compare(b.live, a.live), cmp.Compare(a.v.N, b.v.N))
	})
	out := make([]findingView, len(ks))
	for i, k := range ks {
		out[i] = k.v
	}
	return out
}

// verdict is the report's one-sentence reading of the grade.
func verdict(rep *analyzer.Report) string {
	c := rep.Counts
	wfWith := func(has func(analyzer.Counts) bool) int {
		n := 0
		for _, s := range rep.Workflows {
			if has(s.Counts) {
				n++
			}
		}
		return n
	}
	total := len(rep.Workflows)
	switch {
	case c.Error > 0:
		n := wfWith(func(c analyzer.Counts) bool { return c.Error > 0 })
		return fmt.Sprintf("%d %s in %d of %d %s will misfire for ordinary contacts; fix %s first.",
			c.Error, analyzer.Plural(c.Error, "error"), n, total, analyzer.Plural(total, "workflow"), itThem(c.Error))
	case c.Warning > 0:
		n := wfWith(func(c analyzer.Counts) bool { return c.Warning > 0 })
		return fmt.Sprintf("No errors, but %d %s in %d of %d %s can misfire in some cases.",
			c.Warning, analyzer.Plural(c.Warning, "warning"), n, total, analyzer.Plural(total, "workflow"))
	case c.Info > 0:
		return fmt.Sprintf("No errors or warnings; %d %s worth a look.", c.Info, analyzer.Plural(c.Info, "note is"))
	}
	return "No findings: every rule that could run passed."
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func isAre(n int) string {
	if n == 1 {
		return "lies"
	}
	return "lie"
}

// categories counts findings by category and severity, the most costly category first.
func categories(findings []analyzer.Finding) []categoryRow {
	byName := map[string]*categoryRow{}
	var rows []*categoryRow
	for _, f := range findings {
		r := byName[f.Category]
		if r == nil {
			r = &categoryRow{Name: f.Category}
			byName[f.Category] = r
			rows = append(rows, r)
		}
		switch f.Severity {
		case analyzer.SeverityError:
			r.Error++
		case analyzer.SeverityWarning:
			r.Warning++
		default:
			r.Info++
		}
		r.Total++
	}
	slices.SortFunc(rows, func(a, b *categoryRow) int {
		return cmp.Or(cmp.Compare(b.Error, a.Error), cmp.Compare(b.Total, a.Total), strings.Compare(a.Name, b.Name))
	})
	out := make([]categoryRow, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out
}

func severityWord(s string) string {
	switch s {
	case analyzer.SeverityError:
		return "Error"
	case analyzer.SeverityWarning:
		return "Warning"
	}
	return "Info"
}

// severitySign is the symbol beside a severity's word, the same shape as the drawings' markers.
func severitySign(s string) string {
	switch s {
	case analyzer.SeverityError:
		return "⬣"
	case analyzer.SeverityWarning:
		return "▲"
	}
	return "●"
}
