package analyzer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Cross-workflow flow rules: how the location's workflows start each other (locgraph.go).

func init() { register(wd019, wd020) }

var wd019 = &rule{
	doc: RuleDoc{
		ID: "WD019", Category: "cross-workflow", Severity: SeverityError, Title: "Enrollment cycle across workflows",
		Summary: "Live workflows that start each other in a circle (a tag added that another's tag trigger listens to, an add-to-workflow, a stage move, a watched field written); warning when none of them allows re-entry.",
		Why: "Each workflow on the circle hands the contact to the next, so the contact goes round again and again, every " +
			"message on the way repeating, until GHL's Loop Lock (50 starts or executions for one contact in about 30 " +
			"minutes) locks it and support has to unlock it. Allow Re-entry only lets contacts who finished or were removed " +
			"start again, so when no workflow on the circle allows it each contact goes round at most once: a warning, one " +
			"setting away from the error. The finding is reported once per circle, on its workflow with the lowest id, naming " +
			"every workflow on it.",
		Fix:     "Break the circle where it is least needed: have one workflow add a different tag (or remove the trigger tag first), drop the add-to-workflow that hands back, or add a trigger filter that the returning contact does not match.",
		Example: "\"Lead intake\" adds tag \"nurture\", which starts \"Nurture\"; \"Nurture\" adds tag \"new lead\", which starts \"Lead intake\" again.",
		Needs:   []string{NeedsLocation},
	},
	location: checkEnrollmentCycles,
}

func checkEnrollmentCycles(p *pass) {
	lg := p.idx.locGraph()
	loops := lg.enrollmentLoops()
	for _, pl := range lg.possibleLoops() {
		labels := make([]string, len(pl.Members))
		for i, wf := range pl.Members {
			labels[i] = workflowLabel(wf)
		}
		to := &pl.Via.To.Triggers[pl.Via.Trigger]
		p.on(pl.Members[0]).notAssessed(fmt.Sprintf("workflows %s would start each other in a circle through trigger %s of %s, which is filtered on %s that the analyzer cannot read, so whether they loop is unknown",
			joinLabels(labels), triggerLabel(to), workflowLabel(pl.Via.To), unreadText(unknownFilters(to))))
	}
	if len(loops) == 0 && !p.loc.Complete {
		p.notAssessed("not every workflow of the location is known, so an enrollment cycle through the missing ones cannot be ruled out")
		return
	}
	for _, l := range loops {
		start := l.Path[0].From
		related := make([]string, 0, len(l.Members))
		var b strings.Builder
		b.WriteString("These workflows start each other in a circle: ")
		for k, e := range l.Path {
			related = append(related, e.From.ID)
			if k > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s %s", workflowLabel(e.From), lg.describe(e))
			if e.Via != signalEnroll {
				fmt.Fprintf(&b, ", which starts %s", workflowLabel(e.To))
			}
		}
		b.WriteString(", closing the circle.")
		var rest []string
		for _, wf := range l.Members {
			if !slices.Contains(related, wf.ID) {
				related = append(related, wf.ID)
				rest = append(rest, workflowLabel(wf))
			}
		}
		if len(rest) > 0 {
			fmt.Fprintf(&b, " %s %s also caught in the same loop.", joinLabels(rest), agree(len(rest), "is", "are", "are"))
		}
		var reentry []string
		for _, wf := range l.Members {
			if wf.Settings.AllowReEntry {
				reentry = append(reentry, workflowLabel(wf))
			}
		}
		severity := SeverityError
		if len(reentry) == 0 {
			severity = SeverityWarning
			b.WriteString(" No workflow on it allows re-entry, so each contact goes round at most once, but turning re-entry on anywhere makes it endless.")
		} else {
			fmt.Fprintf(&b, " %s %s re-entry, so a contact goes round again on every lap, repeating each send, until GHL's Loop Lock stops it.",
				joinLabels(reentry), agree(len(reentry), "allows", "allow", "allow"))
		}
		p.reportWorkflow(start, severity, l.Path[0].Step, related, "%s", b.String())
	}
}

var wd020 = &rule{
	doc: RuleDoc{
		ID: "WD020", Category: "cross-workflow", Severity: SeverityWarning, Title: "Overlapping triggers",
		Summary: "Two or more live workflows start on equivalent triggers (same type, same filters in any order); error when at least two of them send messages.",
		Why: "Every workflow whose trigger matches an event enrolls the contact, so equivalent triggers start them all at " +
			"once. When two of them send messages the contact gets duplicate or contradicting sequences; otherwise their " +
			"updates to the same contact race, and GHL warns that updates in the same second can apply out of order or not " +
			"at all. Inbound-webhook triggers are not compared: each workflow has its own webhook URL. The finding is " +
			"reported once per group, on its workflow with the lowest id, naming the others.",
		Fix:     "Merge the workflows into one, or narrow one trigger with a filter (tag, form, calendar, stage) so each event starts exactly one of them; unpublish the old copy if one replaced the other.",
		Example: "\"Welcome v1\" and \"Welcome v2\" both published, both started by form \"Contact us\", both sending a welcome SMS.",
		Needs:   []string{NeedsLocation},
	},
	location: checkOverlappingTriggers,
}

func checkOverlappingTriggers(p *pass) {
	type group struct {
		trigger *Trigger
		members []*Workflow
	}
	var groups []*group
	bySignature := map[string]*group{}
	for i := range p.workflowIndexes() {
		wf := &p.loc.Workflows[i]
		if !live(wf) {
			continue
		}
		for j := range wf.Triggers {
			t := &wf.Triggers[j]
			if !t.Active || t.Type == TriggerInboundWebhook {
				continue
			}
			if len(t.Unread) > 0 {
				// Filters that were not read would make different triggers look the same. A filter on a
				// field the rules do not understand is still compared as written.
				p.on(wf).triggerNotAssessed(t, t.Unread)
				continue
			}
			sig := triggerSignature(t)
			gr := bySignature[sig]
			if gr == nil {
				gr = &group{trigger: t}
				bySignature[sig] = gr
				groups = append(groups, gr)
			}
			if n := len(gr.members); n == 0 || gr.members[n-1] != wf {
				gr.members = append(gr.members, wf)
			}
		}
	}
	found := false
	for _, gr := range groups {
		if len(gr.members) < 2 {
			continue
		}
		found = true
		slices.SortStableFunc(gr.members, func(a, b *Workflow) int { return cmp.Compare(a.ID, b.ID) })
		related := make([]string, len(gr.members))
		labels := make([]string, len(gr.members))
		var senders []string
		for k, wf := range gr.members {
			related[k] = wf.ID
			labels[k] = workflowLabel(wf)
			if sendsMessages(p.idx.graph(wf)) {
				senders = append(senders, workflowLabel(wf))
			}
		}
		msg := fmt.Sprintf("Workflows %s %s start on the same trigger, %s, so one event enrolls the contact in each of them at once",
			joinLabels(labels), agree(len(labels), "", "both", "all"), describeTrigger(gr.trigger))
		severity := SeverityWarning
		if len(senders) >= 2 {
			severity = SeverityError
			msg += fmt.Sprintf(", and %s %s send messages, so the contact gets %s sequences.",
				joinLabels(senders), agree(len(senders), "", "both", "all"), agree(len(senders), "", "both", "all the"))
		} else {
			msg += " and their updates to the contact race."
		}
		p.reportWorkflow(gr.members[0], severity, "", related, "%s", msg)
	}
	if !found && !p.loc.Complete {
		p.notAssessed("not every workflow of the location is known, so an overlapping trigger in the missing ones cannot be ruled out")
	}
}

// sendsMessages reports whether a reachable step of the workflow sends the contact a message.
func sendsMessages(g *graph) bool {
	for i := range g.wf.Steps {
		if g.reachable[i] && g.wf.Steps[i].Kind == KindMessage {
			return true
		}
	}
	return false
}

// describeTrigger writes a trigger's type and filters for a message: `contact_tag (tag in "lead")`.
func describeTrigger(t *Trigger) string {
	if len(t.Filters) == 0 {
		return fmt.Sprintf("%q with no filter", t.Type)
	}
	parts := make([]string, len(t.Filters))
	for i, f := range t.Filters {
		op := f.Operator
		if op == "" {
			op = "in"
		}
		parts[i] = fmt.Sprintf("%s %s %s", f.Field, op, quoteList(f.Values))
	}
	return fmt.Sprintf("%q where %s", t.Type, strings.Join(parts, " and "))
}

// agree picks the word that agrees with a count: one for a single subject, two for a pair, many for
// more.
func agree(n int, one, two, many string) string {
	switch n {
	case 1:
		return one
	case 2:
		return two
	}
	return many
}

// joinLabels joins names the way a sentence lists them: "A", "A and B", "A, B and C".
func joinLabels(labels []string) string {
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}
