package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// diffPage is what diff.html.tmpl shows.
type diffPage struct {
	Title              string
	LocationID         string
	FromLabel, ToLabel string
	From, To           side
	Verdict            string
	Fixed, New, Same   []findingView
}

// side is one analysis of a comparison.
type side struct {
	Score  int
	Grade  string
	Counts analyzer.Counts
}

func newDiffPage(d Diff) *diffPage {
	p := &diffPage{
		LocationID: d.To.LocationID, FromLabel: d.FromLabel, ToLabel: d.ToLabel,
		From:    side{Score: d.From.Score, Grade: d.From.Grade, Counts: d.From.Counts},
		To:      side{Score: d.To.Score, Grade: d.To.Grade, Counts: d.To.Counts},
		Verdict: diffVerdict(d),
	}
	p.Title = fmt.Sprintf("Before and after: grade %s (%d) to %s (%d)", d.From.Grade, d.From.Score, d.To.Grade, d.To.Score)
	// Findings are numbered across the three lists so that each has an anchor of its own.
	n := 0
	list := func(fs []analyzer.Finding) []findingView {
		views := make([]findingView, len(fs))
		for i, f := range fs {
			n++
			views[i] = newFindingView(n, f, nil)
		}
		return rank(views, fs, nil)
	}
	p.Fixed, p.New, p.Same = list(d.Fixed), list(d.New), list(d.Unchanged)
	return p
}

// diffVerdict says in one sentence what changed.
func diffVerdict(d Diff) string {
	move := "stayed at"
	switch {
	case d.To.Score > d.From.Score:
		move = "rose to"
	case d.To.Score < d.From.Score:
		move = "fell to"
	}
	return fmt.Sprintf("The score %s %d (%s) from %d (%s): %d %s fixed, %d new, %d unchanged.",
		move, d.To.Score, d.To.Grade, d.From.Score, d.From.Grade,
		len(d.Fixed), analyzer.Plural(len(d.Fixed), "finding"), len(d.New), len(d.Unchanged))
}

// WriteDiffMarkdown writes the before/after comparison d as Markdown, in the style of the analyzer's
// Markdown report.
func WriteDiffMarkdown(w io.Writer, d Diff) error {
	if d.From == nil || d.To == nil {
		return fmt.Errorf("write diff: both reports are needed")
	}
	p := newDiffPage(d)
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# Before and after\n\n")
	if p.LocationID != "" {
		fmt.Fprintf(b, "Location `%s`. ", mdText(p.LocationID))
	}
	fmt.Fprintf(b, "%s\n\n", mdText(p.Verdict))
	fmt.Fprintf(b, "| | Analysis | Score | Errors | Warnings | Info |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range []struct {
		name, label string
		s           side
	}{{"Before", p.FromLabel, p.From}, {"After", p.ToLabel, p.To}} {
		fmt.Fprintf(b, "| %s | %s | %d (%s) | %d | %d | %d |\n", r.name, mdText(r.label), r.s.Score, r.s.Grade, r.s.Counts.Error, r.s.Counts.Warning, r.s.Counts.Info)
	}
	for _, part := range []struct {
		title string
		list  []findingView
	}{{"Fixed", p.Fixed}, {"New", p.New}, {"Unchanged", p.Same}} {
		fmt.Fprintf(b, "\n## %s (%d)\n", part.title, len(part.list))
		for _, f := range part.list {
			fmt.Fprintf(b, "\n### %s %s: %s\n\n", strings.ToUpper(f.Severity), f.RuleID, mdText(f.Title))
			if f.Workflow != "" {
				where := mdText(f.Workflow)
				if f.Where != "" {
					where += ", " + mdText(f.Where)
				}
				fmt.Fprintf(b, "- **Where:** %s\n", where)
			}
			fmt.Fprintf(b, "- **What:** %s\n- **Why it matters:** %s\n- **Fix:** %s\n", mdText(f.Message), mdText(f.Why), mdText(f.Fix))
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

// mdText keeps text from the client's export from being read as Markdown or HTML, as the
// analyzer's Markdown report does.
var mdReplacer = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`, "\n", " ")

func mdText(s string) string { return mdReplacer.Replace(s) }
