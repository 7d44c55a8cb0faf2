package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// Write renders a result in format (analyzer.FormatText, FormatMarkdown or FormatJSON). JSON is the
// schema the API returns; the same result always gives the same bytes.
func Write(w io.Writer, res *Result, format string) error {
	switch format {
	case analyzer.FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	case analyzer.FormatMarkdown:
		bw := bufio.NewWriter(w)
		writeMarkdown(bw, res)
		return bw.Flush()
	case analyzer.FormatText:
		bw := bufio.NewWriter(w)
		writeText(bw, res)
		return bw.Flush()
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(analyzer.Formats, ", "))
}

// localShort writes an RFC 3339 local time as "Sun 2026-03-01 21:40 -05:00".
func localShort(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format("Mon 2006-01-02 15:04 -07:00")
}

func summaryLine(res *Result) string {
	return fmt.Sprintf("%s, %s, %s, %s; %s executed",
		plural(len(res.Messages), "message"), plural(len(res.Findings), "finding"),
		plural(res.Stats.WorkflowsEntered, "workflow run"), plural(len(res.Assumptions), "assumption"),
		plural(res.Stats.StepsExecuted, "step"))
}

func contactName(res *Result) string {
	if res.ContactID != "" {
		return "contact " + res.ContactID
	}
	return "the contact"
}

// zoneOf is the zone a result's local times are in (UTC when it cannot be loaded).
func zoneOf(res *Result) *time.Location {
	if z, err := time.LoadLocation(res.Timezone); err == nil && res.Timezone != "Local" {
		return z
	}
	return time.UTC
}

// localIn writes t in z the way localShort does.
func localIn(t time.Time, z *time.Location) string {
	return t.In(z).Format("Mon 2006-01-02 15:04 -07:00")
}

func runText(wr WorkflowRun, z *time.Location) string {
	left := "still in the workflow at the horizon"
	if wr.StepID != "" && wr.LeftAt == nil {
		left += " (at step " + wr.StepID + ")"
	}
	if wr.LeftAt != nil {
		left = fmt.Sprintf("left %s (%s", localIn(*wr.LeftAt, z), wr.Exit)
		if wr.StepID != "" {
			left += " at step " + wr.StepID
		}
		left += ")"
	}
	return fmt.Sprintf("entered %s by %s; %s", localIn(wr.EnteredAt, z), wr.EnteredBy, left)
}

func conditionText(c ConditionValue) string {
	res := "false"
	if c.Result {
		res = "true"
	}
	if c.Value != "" {
		return fmt.Sprintf("%s %s %q: %q -> %s", c.Subject, c.Operator, c.Value, c.Actual, res)
	}
	return fmt.Sprintf("%s %s: %q -> %s", c.Subject, c.Operator, c.Actual, res)
}

func writeText(w *bufio.Writer, res *Result) {
	z := zoneOf(res)
	fmt.Fprintf(w, "Simulation of %s (%s) from %s to %s\n", contactName(res), res.Timezone, localIn(res.Start, z), localIn(res.End, z))
	fmt.Fprintf(w, "%s\n", summaryLine(res))

	fmt.Fprintf(w, "\nMessages (%d)\n", len(res.Messages))
	for _, m := range res.Messages {
		fmt.Fprintf(w, "  %s  %-8s %s / %s\n", localShort(m.Local), m.Channel, m.Workflow, m.StepID)
		if m.Subject != "" {
			fmt.Fprintf(w, "      Subject: %s\n", m.Subject)
		}
		fmt.Fprintf(w, "      %s\n", m.Text)
		if len(m.BlankFields) > 0 {
			fmt.Fprintf(w, "      (blank: %s)\n", strings.Join(m.BlankFields, ", "))
		}
	}
	fmt.Fprintf(w, "\nFindings (%d)\n", len(res.Findings))
	for _, f := range res.Findings {
		rule := ""
		if f.RuleID != "" {
			rule = " [" + f.RuleID + "]"
		}
		fmt.Fprintf(w, "  %s %-18s %s  %s %s%s\n", analyzer.SeverityTag(f.Severity), f.Kind, localShort(f.Local), f.WorkflowID, f.StepID, rule)
		fmt.Fprintf(w, "      %s\n", f.Detail)
	}
	fmt.Fprintf(w, "\nWorkflows (%d)\n", len(res.Workflows))
	for _, wr := range res.Workflows {
		fmt.Fprintf(w, "  %s: %s\n", wr.Workflow, runText(wr, z))
	}
	fmt.Fprintf(w, "\nAssumptions (%d)\n", len(res.Assumptions))
	for _, a := range res.Assumptions {
		where := strings.TrimSpace(a.WorkflowID + " " + a.StepID)
		if where != "" {
			where += ": "
		}
		fmt.Fprintf(w, "  [%s] %s%s\n", a.Kind, where, a.Detail)
	}
	fmt.Fprintf(w, "\nTrace (%d)\n", len(res.Trace))
	for _, t := range res.Trace {
		where := t.Workflow
		if t.StepID != "" {
			where += " / " + t.StepID
		}
		if where == "" {
			where = "-"
		}
		mark := ""
		if t.Assumption {
			mark = " (assumption)"
		}
		fmt.Fprintf(w, "  %4d %s  %-11s %s: %s%s\n", t.Seq, localShort(t.Local), t.Kind, where, t.Detail, mark)
		for _, c := range t.Conditions {
			fmt.Fprintf(w, "         %s\n", conditionText(c))
		}
	}
}

// mdCell escapes a value for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func writeMarkdown(w *bufio.Writer, res *Result) {
	fmt.Fprintf(w, "# Simulation of %s\n\n", mdCell(contactName(res)))
	z := zoneOf(res)
	fmt.Fprintf(w, "From %s to %s, local times in %s. %s.\n", localIn(res.Start, z), localIn(res.End, z), res.Timezone, summaryLine(res))

	fmt.Fprintf(w, "\n## Messages\n\n")
	if len(res.Messages) == 0 {
		fmt.Fprintf(w, "The contact receives no message.\n")
	} else {
		fmt.Fprintf(w, "| Local time | Channel | Workflow | Step | Text |\n|---|---|---|---|---|\n")
		for _, m := range res.Messages {
			text := m.Text
			if m.Subject != "" {
				text = "**" + m.Subject + "** " + text
			}
			if len(m.BlankFields) > 0 {
				text += " _(blank: " + strings.Join(m.BlankFields, ", ") + ")_"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", localShort(m.Local), m.Channel, mdCell(m.Workflow), mdCell(m.StepID), mdCell(text))
		}
	}
	fmt.Fprintf(w, "\n## Findings\n\n")
	if len(res.Findings) == 0 {
		fmt.Fprintf(w, "The run proves no problem.\n")
	} else {
		fmt.Fprintf(w, "| Severity | Kind | Local time | Workflow | Step | Rule | Detail |\n|---|---|---|---|---|---|---|\n")
		for _, f := range res.Findings {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Severity, f.Kind, localShort(f.Local), mdCell(f.WorkflowID), mdCell(f.StepID), f.RuleID, mdCell(f.Detail))
		}
	}
	fmt.Fprintf(w, "\n## Workflows\n\n")
	if len(res.Workflows) == 0 {
		fmt.Fprintf(w, "The contact enters no workflow.\n")
	} else {
		fmt.Fprintf(w, "| Workflow | Entered | By | Left | Exit | Step |\n|---|---|---|---|---|---|\n")
		for _, wr := range res.Workflows {
			left := "-"
			if wr.LeftAt != nil {
				left = localIn(*wr.LeftAt, z)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", mdCell(wr.Workflow), localIn(wr.EnteredAt, z), mdCell(wr.EnteredBy), left, wr.Exit, mdCell(wr.StepID))
		}
	}
	fmt.Fprintf(w, "\n## Assumptions\n\n")
	if len(res.Assumptions) == 0 {
		fmt.Fprintf(w, "None: the simulation evaluated everything it met.\n")
	}
	for _, a := range res.Assumptions {
		where := strings.TrimSpace(a.WorkflowID + " " + a.StepID)
		if where != "" {
			where = " `" + where + "`"
		}
		fmt.Fprintf(w, "- **%s**%s: %s\n", a.Kind, where, mdCell(a.Detail))
	}
	fmt.Fprintf(w, "\n## Trace\n\n| # | Local time | Kind | Workflow | Step | What happened |\n|---|---|---|---|---|---|\n")
	for _, t := range res.Trace {
		detail := t.Detail
		for _, c := range t.Conditions {
			detail += "; " + conditionText(c)
		}
		if t.Assumption {
			detail += " _(assumption)_"
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", t.Seq, localShort(t.Local), t.Kind, mdCell(t.Workflow), mdCell(t.StepID), mdCell(detail))
	}
}
