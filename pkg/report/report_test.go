package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/report"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// fixture is a small location that shows every part of a drawing: a trigger with its own finding, a
// labelled branch, a go-to loop, an unreachable step, findings on steps and on the workflow, two
// workflows that start each other, and a draft.
func fixture(fixed bool) *analyzer.Location {
	sms := func(id, name, body string) analyzer.Step {
		return analyzer.Step{ID: id, Kind: analyzer.KindMessage, Type: "sms", Name: name, Message: &analyzer.Message{Channel: analyzer.ChannelSMS, Body: body}}
	}
	intake := analyzer.Workflow{
		ID: "wf-intake", Name: "Lead intake <new leads>", Status: analyzer.StatusPublished,
		Triggers: []analyzer.Trigger{{ID: "t1", Type: analyzer.TriggerFormSubmitted, RawType: "form_submitted", Known: true, Active: true, Name: "Contact form"}},
		Steps: []analyzer.Step{
			sms("s1", "Welcome SMS", "Hi {{contact.first_name}}, thanks! Reply STOP to opt out."),
			{ID: "s2", Kind: analyzer.KindWait, Type: "wait", Name: "Wait 1 day", Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"}}},
			{ID: "s3", Kind: analyzer.KindCondition, Type: "if_else", Name: "Replied?", Condition: &analyzer.Condition{Branches: []analyzer.Branch{{ID: "b1", Name: "Yes", Clauses: []analyzer.Clause{{Subject: "reply", Operator: "exists"}}}}}},
			{ID: "s4", Kind: analyzer.KindTagAdd, Type: "add_contact_tag", Name: "Tag hot lead", Tags: []string{"hot-lead"}},
			{ID: "s5", Kind: analyzer.KindGoto, Type: "goto", Name: "Try again", GotoTarget: "s2"},
			sms("s6", "Orphan follow-up", "Still there?"),
		},
		Edges: []analyzer.Edge{
			{From: "s1", To: "s2", Kind: analyzer.EdgeNext},
			{From: "s2", To: "s3", Kind: analyzer.EdgeNext},
			{From: "s3", To: "s4", Kind: analyzer.EdgeBranch, Label: "Yes", BranchID: "b1"},
			{From: "s3", To: "s5", Kind: analyzer.EdgeElse, Label: "None"},
			{From: "s5", To: "s2", Kind: analyzer.EdgeGoto},
		},
		Root: "s1",
	}
	if fixed {
		intake.Steps = intake.Steps[:5]
		intake.Steps[1].Wait.Window = &analyzer.TimeWindow{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}
	}
	alert := analyzer.Workflow{
		ID: "wf-alert", Name: "Hot lead alert", Status: analyzer.StatusPublished,
		Triggers: []analyzer.Trigger{{ID: "t2", Type: analyzer.TriggerContactTag, RawType: "contact_tag_added", Known: true, Active: true, Name: "Hot lead tagged",
			Filters: []analyzer.Filter{{Field: "tag", Operator: "eq", Values: []string{"hot-lead"}}}}},
		Steps: []analyzer.Step{
			{ID: "a1", Kind: analyzer.KindNotification, Type: "internal_notification", Name: "Tell the owner"},
			{ID: "a2", Kind: analyzer.KindEnroll, Type: "add_to_workflow", Name: "Back to intake", Enrollment: &analyzer.Enrollment{WorkflowIDs: []string{"wf-intake"}}},
		},
		Edges: []analyzer.Edge{{From: "a1", To: "a2", Kind: analyzer.EdgeNext}},
		Root:  "a1",
	}
	draft := analyzer.Workflow{ID: "wf-draft", Name: "Old draft", Status: analyzer.StatusDraft,
		Triggers: []analyzer.Trigger{{ID: "t3", Type: "mystery_trigger", RawType: "mystery_trigger", Active: true}}}
	return &analyzer.Location{ID: "loc-fixture", Complete: true, Workflows: []analyzer.Workflow{intake, alert, draft}}
}

// mustRender renders the report of loc (drawn when draw is true).
func mustRender(tb testing.TB, rep *analyzer.Report, opts report.Options) []byte {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, report.Render(context.Background(), &buf, rep, opts))
	return buf.Bytes()
}

// mustGolden compares got with testdata/name, rewriting it under -update.
func mustGolden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(tb, os.MkdirAll("testdata", 0o755))
		require.NoError(tb, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "run go test ./pkg/report -update to write the golden file")
	if string(want) == string(got) {
		return
	}
	// The pages are long: show the first line that differs rather than both pages.
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		w, g := "", ""
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			tb.Fatalf("output differs from %s at line %d (rerun with -update if the change is intended):\nwant: %s\ngot:  %s", path, i+1, w, g)
		}
	}
}

// diff pairs findings by rule, workflow and step, as the API's diff does for findings that are not
// repeated at one place.
func diff(from, to *analyzer.Report) report.Diff {
	key := func(f analyzer.Finding) string { return f.RuleID + "|" + f.WorkflowID + "|" + f.StepID }
	before := map[string]bool{}
	for _, f := range from.Findings {
		before[key(f)] = true
	}
	after := map[string]bool{}
	d := report.Diff{From: from, To: to, FromLabel: "ana_before", ToLabel: "ana_after"}
	for _, f := range to.Findings {
		after[key(f)] = true
		if before[key(f)] {
			d.Unchanged = append(d.Unchanged, f)
		} else {
			d.New = append(d.New, f)
		}
	}
	for _, f := range from.Findings {
		if !after[key(f)] {
			d.Fixed = append(d.Fixed, f)
		}
	}
	return d
}

func TestRenderGolden(t *testing.T) {
	loc := fixture(false)
	rep := analyzer.Analyze(loc)
	tests := []struct {
		name string
		opts report.Options
	}{
		{name: "fixture.html", opts: report.Options{Location: loc}},
		{name: "fixture-no-drawings.html", opts: report.Options{NoDrawings: "This analysis is of a posted document, which is not stored, so its workflows are not drawn."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRender(t, rep, tt.opts)
			mustGolden(t, tt.name, got)
			require.Equal(t, got, mustRender(t, rep, tt.opts), "the same input must give the same bytes")
		})
	}
}

func TestRenderDiffGolden(t *testing.T) {
	d := diff(analyzer.Analyze(fixture(false)), analyzer.Analyze(fixture(true)))
	require.NotEmpty(t, d.Fixed, "the fixture's fix must fix something")
	require.NotEmpty(t, d.Unchanged)

	var html bytes.Buffer
	require.NoError(t, report.RenderDiff(&html, d))
	mustGolden(t, "fixture-diff.html", html.Bytes())
	mustSelfContained(t, html.Bytes())

	var md bytes.Buffer
	require.NoError(t, report.WriteDiffMarkdown(&md, d))
	mustGolden(t, "fixture-diff.md", md.Bytes())

	require.Error(t, report.RenderDiff(&html, report.Diff{To: d.To}))
	require.Error(t, report.WriteDiffMarkdown(&md, report.Diff{From: d.From}))
}

func TestRenderEscapesInput(t *testing.T) {
	loc := fixture(false)
	loc.Workflows[1].Name = `<script>alert("x")</script>`
	loc.Workflows[1].Steps[0].Name = `"><img src=x onerror=alert(1)>`
	page := string(mustRender(t, analyzer.Analyze(loc), report.Options{Location: loc}))
	require.NotContains(t, page, "<script>")
	require.NotContains(t, page, "<img")
	require.Contains(t, page, "&lt;script&gt;")
	mustSelfContained(t, []byte(page))
}

// The attributes and CSS that can make a browser fetch something, and the elements that load or run
// something from elsewhere.
var (
	tag         = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	urlAttr     = regexp.MustCompile(`(?i)\s(src|srcset|href|xlink:href|action|formaction|poster|data|background|ping|manifest|cite|longdesc|usemap|codebase|archive|icon)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	cssURL      = regexp.MustCompile(`(?i)url\(\s*(['"]?)([^'")]*)`)
	loadingTags = regexp.MustCompile(`(?i)<(script|link|iframe|frame|object|embed|img|image|video|audio|source|track|base|use|feimage|style[^>]*\bsrc|meta[^>]*http-equiv)\b`)
)

// mustSelfContained fails unless page references nothing outside itself: every link and reference is
// to a place on the page (#...) or inline data (data:), and no element loads anything.
func mustSelfContained(tb testing.TB, page []byte) {
	tb.Helper()
	s := string(page)
	// Attributes are read inside tags only: text holds "<" only escaped, so it cannot open one.
	for _, t := range tag.FindAllString(s, -1) {
		for _, m := range urlAttr.FindAllStringSubmatch(t, -1) {
			v := strings.Trim(m[2], `"'`)
			require.Truef(tb, strings.HasPrefix(v, "#") || strings.HasPrefix(v, "data:"), "attribute %s=%q refers outside the page", m[1], v)
		}
	}
	for _, m := range cssURL.FindAllStringSubmatch(s, -1) {
		require.Truef(tb, strings.HasPrefix(m[2], "#") || strings.HasPrefix(m[2], "data:"), "CSS url(%s) refers outside the page", m[2])
	}
	require.NotRegexp(tb, `(?i)@import`, s)
	if m := loadingTags.FindString(s); m != "" {
		tb.Fatalf("the page has an element that loads something: %s", m)
	}
	require.NotContains(tb, s, "http://", "no absolute URL, not even in text or a namespace")
	require.NotContains(tb, s, "https://")
}

func TestSampleSelfContained(t *testing.T) {
	rep, loc := mustSample(t, "broken-account.json")
	mustSelfContained(t, mustRender(t, rep, report.Options{Location: loc}))
}

func TestSelfContainedCheckCatchesReferences(t *testing.T) {
	// The check itself must fail on each way a page can refer outside itself.
	for _, page := range []string{
		`<a href="https://example.com">x</a>`, `<a href="other.html">x</a>`, `<a href='//cdn'>x</a>`,
		`<p style="background:url(x.png)">`, `<style>@import "x.css";</style>`, `<img src="data:x">`,
		`<script>1</script>`, `<svg><image href="#x"/></svg>`, `<link rel=stylesheet href=x.css>`,
	} {
		t.Run(page, func(t *testing.T) {
			ft := &fakeTB{TB: t}
			func() {
				defer func() { _ = recover() }()
				mustSelfContained(ft, []byte(page))
			}()
			require.True(t, ft.failed, "the check accepted %s", page)
		})
	}
}

// fakeTB records a failure instead of failing the test, to test a check.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Errorf(format string, args ...any) { f.failed = true }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = true; panic("fatal") }
func (f *fakeTB) FailNow()                          { f.failed = true; panic("fail now") }

var (
	svgOpen     = regexp.MustCompile(`<svg id="(wf-\d+)-drawing" role="img" aria-labelledby="([^"]+)"`)
	markerLink  = regexp.MustCompile(`<a class="marker (error|warning|info)" id="marker-(\d+)" href="#finding-(\d+)" aria-label="[^"]+"><title>`)
	findingCard = regexp.MustCompile(`<article class="finding (?:error|warning|info)" id="finding-(\d+)">`)
	backLink    = regexp.MustCompile(`<a class="to-marker" href="#marker-(\d+)">`)
	sectionOpen = regexp.MustCompile(`<section class="workflow" id="(wf-\d+)"`)
)

func TestSampleDrawsEveryWorkflowAndMarksEveryFinding(t *testing.T) {
	rep, loc := mustSample(t, "broken-account.json")
	page := string(mustRender(t, rep, report.Options{Location: loc}))

	sections := sectionOpen.FindAllStringSubmatch(page, -1)
	require.Len(t, sections, len(rep.Workflows))
	drawings := map[string]bool{}
	for _, m := range svgOpen.FindAllStringSubmatch(page, -1) {
		drawings[m[1]] = true
		for _, id := range strings.Fields(m[2]) {
			require.Contains(t, page, fmt.Sprintf(`id="%s">`, id), "the drawing's title and description exist")
		}
	}
	for _, m := range sections {
		require.True(t, drawings[m[1]], "workflow section %s has a drawing", m[1])
	}

	markers := map[string]int{}
	for _, m := range markerLink.FindAllStringSubmatch(page, -1) {
		require.Equal(t, m[2], m[3], "marker %s links to its own finding", m[2])
		markers[m[2]]++
	}
	cards := findingCard.FindAllStringSubmatch(page, -1)
	require.Len(t, cards, len(rep.Findings))
	backs := map[string]bool{}
	for _, m := range backLink.FindAllStringSubmatch(page, -1) {
		backs[m[1]] = true
	}
	for _, m := range cards {
		require.Equal(t, 1, markers[m[1]], "finding %s has exactly one marker", m[1])
		require.True(t, backs[m[1]], "finding %s links back to its marker", m[1])
	}
	require.Contains(t, page, `<svg id="location-graph" role="img"`)
	require.Contains(t, page, `class="edge link cycle"`, "the sample's enrollment loops are drawn as cycles")

	size := len(page)
	require.Less(t, size, 2<<20, "the sample's report stays under 2 MB")
}

func TestRenderConcurrent(t *testing.T) {
	loc := fixture(false)
	rep := analyzer.Analyze(loc)
	want := mustRender(t, rep, report.Options{Location: loc})
	var wg sync.WaitGroup
	got := make([][]byte, 4)
	for i := range got {
		wg.Go(func() {
			var buf bytes.Buffer
			if err := report.Render(context.Background(), &buf, rep, report.Options{Location: loc}); err == nil {
				got[i] = buf.Bytes()
			}
		})
	}
	wg.Wait()
	for i := range got {
		require.Equal(t, string(want), string(got[i]), "render %d", i)
	}
}
