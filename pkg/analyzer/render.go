package analyzer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Output formats of a report.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Formats lists the supported output formats.
var Formats = []string{FormatText, FormatMarkdown, FormatJSON}

// Write renders the report in format. JSON is the same schema the API returns.
func Write(w io.Writer, rep *Report, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case FormatMarkdown:
		return writeMarkdown(w, rep)
	case FormatText:
		return writeText(w, rep)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// group is the findings about one workflow (or, with a nil summary, about the location).
type group struct {
	summary  *WorkflowSummary
	findings []Finding
}

// groups orders findings by workflow in input order, location-wide findings first.
func groups(rep *Report) []group {
	byID := make(map[string]int, len(rep.Workflows))
	out := []group{{}}
	for i := range rep.Workflows {
		if _, dup := byID[rep.Workflows[i].ID]; dup {
			continue
		}
		byID[rep.Workflows[i].ID] = len(out)
		out = append(out, group{summary: &rep.Workflows[i]})
	}
	for _, f := range rep.Findings {
		i, ok := byID[f.WorkflowID]
		if !ok {
			i = 0
		}
		out[i].findings = append(out[i].findings, f)
	}
	return out
}

func countsText(c Counts) string {
	return fmt.Sprintf("%d %s, %d %s, %d info", c.Error, Plural(c.Error, "error"), c.Warning, Plural(c.Warning, "warning"), c.Info)
}

// Plural is word for a count of n: as it is for one, with an s otherwise. Every word the reports
// count takes a plain s.
func Plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// SeverityTag is a severity as the text format marks it: five characters, upper case, so the
// columns after it line up.
func SeverityTag(s string) string {
	switch s {
	case SeverityError:
		return "ERROR"
	case SeverityWarning:
		return "WARN "
	}
	return "INFO "
}

func writeText(w io.Writer, rep *Report) error {
	b := bufio.NewWriter(w)
	loc := "location"
	if rep.LocationID != "" {
		loc = "location " + rep.LocationID
	}
	fmt.Fprintf(b, "ghl-debugger analyzer %s: %s, %d %s, score %d (%s): %s\n",
		rep.AnalyzerVersion, loc, len(rep.Workflows), Plural(len(rep.Workflows), "workflow"), rep.Score, rep.Grade, countsText(rep.Counts))
	for _, g := range groups(rep) {
		if g.summary == nil && len(g.findings) == 0 {
			continue
		}
		fmt.Fprintln(b)
		if g.summary == nil {
			fmt.Fprintln(b, "Location-wide")
		} else {
			s := g.summary
			fmt.Fprintf(b, "%s (%s, %s, %d %s): score %d (%s), %s\n", quoteName(s.Name), s.ID, s.Status, s.Steps, Plural(s.Steps, "step"), s.Score, s.Grade, countsText(s.Counts))
		}
		for _, f := range g.findings {
			where := ""
			if f.StepID != "" {
				where = " at " + stepRef(f)
			}
			fmt.Fprintf(b, "  %s %s %s%s\n", SeverityTag(f.Severity), f.RuleID, f.Title, where)
			fmt.Fprintf(b, "        %s\n        fix: %s\n", f.Message, f.Fix)
		}
	}
	if len(rep.NotAssessed) > 0 {
		fmt.Fprintf(b, "\nNot assessed (%d): these rules lacked the data they need and did not pass or fail\n", len(rep.NotAssessed))
		for _, n := range rep.NotAssessed {
			scope := "location"
			if n.WorkflowID != "" {
				scope = n.WorkflowID
			}
			fmt.Fprintf(b, "  %s %s: %s\n", n.RuleID, scope, n.Reason)
		}
	}
	fmt.Fprintf(b, "\n%s\n", coverageLine(rep.Coverage))
	return b.Flush()
}

func writeMarkdown(w io.Writer, rep *Report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# Workflow health report\n\n")
	if rep.LocationID != "" {
		fmt.Fprintf(b, "Location `%s`. ", rep.LocationID)
	}
	fmt.Fprintf(b, "Score **%d (%s)**: %s across %d %s. Analyzer %s, content hash `%.12s`.\n\n",
		rep.Score, rep.Grade, countsText(rep.Counts), len(rep.Workflows), Plural(len(rep.Workflows), "workflow"), rep.AnalyzerVersion, rep.ContentHash)
	fmt.Fprintf(b, "| Workflow | Status | Steps | Score | Errors | Warnings | Info |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.Workflows {
		fmt.Fprintf(b, "| %s | %s | %d | %d (%s) | %d | %d | %d |\n", mdCell(s.Name), s.Status, s.Steps, s.Score, s.Grade, s.Counts.Error, s.Counts.Warning, s.Counts.Info)
	}
	for _, g := range groups(rep) {
		if len(g.findings) == 0 {
			continue
		}
		if g.summary == nil {
			fmt.Fprintf(b, "\n## Location-wide\n")
		} else {
			fmt.Fprintf(b, "\n## %s\n", mdText(g.summary.Name))
		}
		for _, f := range g.findings {
			fmt.Fprintf(b, "\n### %s %s: %s\n\n", strings.ToUpper(f.Severity), f.RuleID, mdText(f.Title))
			if f.StepID != "" {
				fmt.Fprintf(b, "- **Where:** %s\n", mdText(stepRef(f)))
			}
			fmt.Fprintf(b, "- **What:** %s\n- **Why it matters:** %s\n- **Fix:** %s\n", mdText(f.Message), mdText(f.Why), mdText(f.Fix))
		}
	}
	if len(rep.NotAssessed) > 0 {
		fmt.Fprintf(b, "\n## Not assessed\n\nThese rules lacked the data they need; they neither passed nor failed.\n\n")
		for _, n := range rep.NotAssessed {
			scope := "whole location"
			if n.WorkflowID != "" {
				scope = "workflow `" + n.WorkflowID + "`"
			}
			fmt.Fprintf(b, "- %s (%s): %s\n", n.RuleID, scope, mdText(n.Reason))
		}
	}
	fmt.Fprintf(b, "\n%s\n", mdText(coverageLine(rep.Coverage)))
	return b.Flush()
}

func stepRef(f Finding) string {
	if f.StepName != "" {
		return fmt.Sprintf("%q (%s)", f.StepName, f.StepID)
	}
	return "step " + f.StepID
}

func quoteName(name string) string {
	if name == "" {
		return "(unnamed workflow)"
	}
	return fmt.Sprintf("%q", name)
}

// mdText keeps user-controlled text from being read as markup: workflow names and messages come from
// the client's export.
var mdReplacer = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`, "\n", " ")

func mdText(s string) string { return mdReplacer.Replace(s) }

func mdCell(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return mdText(s)
}
