package analyzer

import (
	"fmt"
	"strconv"
)

// Wait rules: time, event and appointment waits of one workflow.

func init() { register(wd007, wd008, wd009, wd010, wd011) }

var wd007 = &rule{
	doc: RuleDoc{
		ID: "WD007", Category: "waits", Severity: SeverityError, Title: "Zero-length wait",
		Summary: "A time delay with a missing or zero duration, which does not pause at all; a warning when the wait carries a time window.",
		Why: "A wait step whose startAfter is empty or zero passes the contact straight on: in a live test four messages and a " +
			"tag meant to be spread over days all fired within six seconds. The builder shows the step as a delay, so " +
			"nobody notices. A time window on such a wait only holds the contacts who reach it outside the window; those " +
			"inside it pass at once, so the steps around it still run back to back (a warning rather than an error).",
		Fix:     "Open the wait in the GHL builder and set the delay (for example 1 day), or delete the step if no pause is wanted.",
		Example: "\"Wait 2 days\" whose duration was never filled in, between two SMS steps.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkZeroWaits,
}

func checkZeroWaits(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindWait || s.Wait == nil || s.Wait.Mode != WaitTime || s.Wait.Duration.Minutes() > 0 {
			continue
		}
		what := "has no duration"
		if d := s.Wait.Duration; d != nil {
			what = fmt.Sprintf("is set to %s %s", formatNumber(d.Value), d.Unit)
		}
		then := "the steps after it run at once"
		if next := firstSuccessor(p.g, i); next != nil {
			then = fmt.Sprintf("%s runs at once", stepLabel(next))
		}
		if w := s.Wait.Window; w != nil {
			p.reportAt(SeverityWarning, s.ID, "Wait %s %s, so it does not pause: its time window %s only holds contacts who reach it outside "+
				"the window, and for those inside it %s.", stepLabel(s), what, windowText(w), then)
			continue
		}
		p.report(s.ID, "Wait %s %s, so it does not pause: %s.", stepLabel(s), what, then)
	}
}

var wd008 = &rule{
	doc: RuleDoc{
		ID: "WD008", Category: "waits", Severity: SeverityError, Title: "Event wait without timeout",
		Summary: "A wait for a reply, condition, trigger-link click or email event with no timeout; info when nothing follows it.",
		Why: "GHL holds a contact on an event wait until the event happens: \"If the lead did not reply, they will keep waiting " +
			"at this step.\" Without a timeout path the contacts who never act are parked forever and never followed up, " +
			"and because they stay enrolled they cannot re-enter the workflow. When nothing follows the wait the only cost is " +
			"that enrollment (info).",
		Fix:     "In the wait's settings in the GHL builder, add a timeout (for example 3 days) and give its timeout path a follow-up step.",
		Example: "\"Wait for reply\" with no timeout, followed by \"Book a call\" SMS.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkEventWaitTimeouts,
}

// eventWaitVerb says what the contact must do to end an event wait of the given mode, or "" when the
// mode is not an event wait.
func eventWaitVerb(mode string) string {
	switch mode {
	case WaitReply:
		return "reply"
	case WaitCondition:
		return "meet its condition"
	case WaitTriggerLink:
		return "click the trigger link"
	case WaitEmailEvent:
		return "trigger the email event"
	}
	return ""
}

func checkEventWaitTimeouts(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindWait || s.Wait == nil {
			continue
		}
		verb := eventWaitVerb(s.Wait.Mode)
		if verb == "" || s.Wait.Timeout.Minutes() > 0 {
			continue
		}
		if firstSuccessor(p.g, i) == nil && !hasDanglingExit(p.g, s.ID) {
			p.reportAt(SeverityInfo, s.ID, "Wait %s has no timeout and nothing follows it, so contacts who never %s stay enrolled "+
				"forever and cannot re-enter the workflow.", stepLabel(s), verb)
			continue
		}
		p.report(s.ID, "Wait %s has no timeout, so contacts who never %s are parked on it forever and never reach the steps after it.", stepLabel(s), verb)
	}
}

// hasDanglingExit reports whether a step has an edge to a step that does not exist (WD001 reports it;
// here it still counts as something meant to follow). The graph files every edge leaving id under
// the first step with that id, so only that step's edges are looked at.
func hasDanglingExit(g *graph, id string) bool {
	for _, ei := range g.out[g.pos[id]] {
		if g.wf.Edges[ei].To != "" {
			return true
		}
	}
	return false
}

var wd009 = &rule{
	doc: RuleDoc{
		ID: "WD009", Category: "waits", Severity: SeverityWarning, Title: "Reply wait not right after a message",
		Summary: "A wait for a contact reply whose previous step is not an outbound message (or that starts the workflow).",
		Why: "GHL ties a Contact Reply wait to the communication step right before it; its help says certain actions, like " +
			"an if/else, break the connection to the wait step. The wait then never matches the reply, and contacts sit on it " +
			"until its timeout (or forever).",
		Fix:     "Move the reply wait so it comes directly after the SMS or email it waits on; put any if/else after the wait instead.",
		Example: "SMS \"Still interested?\" -> if/else \"Has phone?\" -> \"Wait for reply\".",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkReplyWaitPlacement,
}

func checkReplyWaitPlacement(p *pass) {
	g := p.g
	entry := make([]bool, len(p.wf.Steps))
	for _, i := range g.entries {
		entry[i] = true
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindWait || s.Wait == nil || s.Wait.Mode != WaitReply {
			continue
		}
		var bad []int
		for _, ei := range g.in[i] {
			j, ok := g.pos[p.wf.Edges[ei].From]
			if ok && p.wf.Steps[j].Kind != KindMessage {
				bad = append(bad, j)
			}
		}
		switch {
		case len(bad) > 0:
			others := ""
			if len(bad) > 1 {
				others = fmt.Sprintf(" (and %d other %s)", len(bad)-1, Plural(len(bad)-1, "step"))
			}
			p.report(s.ID, "Reply wait %s comes right after %s%s, not after a message; GHL ties a reply wait to the message just "+
				"before it, so this wait never sees the reply.", stepLabel(s), stepLabel(&p.wf.Steps[bad[0]]), others)
		case entry[i]:
			p.report(s.ID, "Reply wait %s is where the workflow starts, with no message before it; GHL ties a reply wait to the "+
				"message just before it, so this wait never sees a reply.", stepLabel(s))
		}
	}
}

var wd010 = &rule{
	doc: RuleDoc{
		ID: "WD010", Category: "waits", Severity: SeverityWarning, Title: "Appointment or event wait without its prerequisite",
		Summary: "An appointment-relative wait in a workflow with no appointment trigger, or an event-time wait reachable without a Set Event Start Date step before it.",
		Why: "GHL times an appointment wait from the appointment of an Appointment Status trigger, and an event-time wait from " +
			"the date a Set Event Start Date action stored earlier in the run. Without them there is no moment to wait for: the " +
			"wait never releases as intended, or GHL treats the time as passed and moves on or skips the messages. An " +
			"appointment-type wait after a Set Event Start Date step is an event-time wait and needs no appointment trigger.",
		Fix:     "Trigger the workflow with Appointment Status (with a calendar and status filter), or add a Set Event Start Date action before the wait on every path that reaches it.",
		Example: "A reminder ladder \"Wait until 1 hour before appointment\" in a workflow triggered by a tag.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkWaitPrerequisites,
}

func checkWaitPrerequisites(p *pass) {
	g := p.g
	hasAppointmentTrigger := false
	for _, t := range p.wf.Triggers {
		if t.Active && (t.Type == TriggerAppointment || t.Type == TriggerCustomerAppointment) {
			hasAppointmentTrigger = true
		}
	}
	// undated marks the steps a contact can reach without passing a Set Event Start Date step.
	undated := g.walk(g.entries, func(e Edge) bool { return g.step(e.From).Kind != KindEventStartDate })
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindWait || s.Wait == nil || !undated[i] {
			continue
		}
		switch s.Wait.Mode {
		case WaitAppointment:
			if !hasAppointmentTrigger {
				p.report(s.ID, "Wait %s is timed from an appointment, but no active trigger of this workflow is an Appointment Status "+
					"trigger (and no Set Event Start Date step comes before it), so GHL has no appointment to time it from.", stepLabel(s))
			}
		case WaitEventTime:
			p.report(s.ID, "Event-time wait %s can be reached without a Set Event Start Date step before it, so contacts who get "+
				"there have no event date to wait for.", stepLabel(s))
		}
	}
}

var wd011 = &rule{
	doc: RuleDoc{
		ID: "WD011", Category: "waits", Severity: SeverityWarning, Title: "Absurd or out-of-order waits",
		Summary: "Appointment or event offsets that go backwards along a path (24 hours before after 1 hour before), or a fixed delay of 365 days or more.",
		Why: "When an appointment wait's moment has already passed GHL moves the contact on at once or skips the messages " +
			"until the next wait, so a \"24 hours before\" reminder placed after \"1 hour before\" arrives late or never. A " +
			"delay of a year or more is almost always a unit typo, and it keeps contacts enrolled (unable to re-enter) the " +
			"whole time.",
		Fix:     "Order appointment waits from the earliest moment to the latest along each path; check the unit and value of very long delays.",
		Example: "\"Wait until 1 hour before\" -> SMS -> \"Wait until 24 hours before\" -> SMS.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkWaitOrder,
}

const minutesPerYear = 365 * 24 * 60

// waitMinutes is a delay in minutes for the year check: months and years count by the calendar (12
// months = 1 year), not as 30-day months.
func waitMinutes(d *Duration) float64 {
	switch d.Unit {
	case "month", "months":
		return d.Value * minutesPerYear / 12
	case "year", "years":
		return d.Value * minutesPerYear
	}
	return d.Minutes()
}

func checkWaitOrder(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind == KindWait && s.Wait != nil && s.Wait.Mode == WaitTime && s.Wait.Duration != nil && waitMinutes(s.Wait.Duration) >= minutesPerYear {
			p.report(s.ID, "Wait %s lasts %s %s, a year or more; contacts stay enrolled that long, which is usually a unit typo.",
				stepLabel(s), formatNumber(s.Wait.Duration.Value), s.Wait.Duration.Unit)
		}
	}
	checkOffsetOrder(p)
}

// offsetMinutes is a wait's moment relative to its appointment or event in signed minutes (before is
// negative), and false when the step is not an appointment or event-time wait with a usable offset.
func offsetMinutes(s *Step) (int, bool) {
	if s.Kind != KindWait || s.Wait == nil || s.Wait.Offset == nil || (s.Wait.Mode != WaitAppointment && s.Wait.Mode != WaitEventTime) {
		return 0, false
	}
	switch s.Wait.Offset.When {
	case "before":
		return -s.Wait.Offset.Minutes, true
	case "after":
		return s.Wait.Offset.Minutes, true
	}
	return 0, false
}

// checkOffsetOrder finds appointment (and event-time) waits whose moment is earlier than that of the
// last such wait before them on some path. It orders the reachable steps topologically, ignoring the
// edges that close loops, and carries forward the latest offset seen per wait mode: one pass, linear.
func checkOffsetOrder(p *pass) {
	g := p.g
	order, back := acyclicOrder(g)
	// seen is the latest offset carried along a path: its minutes and the wait that set it.
	type seen struct {
		ok   bool
		at   int
		step int
	}
	modes := [2]string{WaitAppointment, WaitEventTime}
	var in [2][]seen
	for m := range in {
		in[m] = make([]seen, len(p.wf.Steps))
	}
	for _, v := range order {
		s := &p.wf.Steps[v]
		var out [2]seen
		for m := range modes {
			out[m] = in[m][v]
		}
		if off, ok := offsetMinutes(s); ok {
			m := 0
			if s.Wait.Mode == WaitEventTime {
				m = 1
			}
			if prev := in[m][v]; prev.ok && prev.at > off {
				ps := &p.wf.Steps[prev.step]
				p.report(s.ID, "Wait %s (%s) comes after wait %s (%s) on the same path, so its moment has already passed when "+
					"contacts reach it: GHL moves them on at once or skips the messages until the next wait.",
					stepLabel(s), formatOffset(off), stepLabel(ps), formatOffset(prev.at))
			}
			out[m] = seen{ok: true, at: off, step: v}
		}
		for _, ei := range g.out[v] {
			w, ok := g.pos[p.wf.Edges[ei].To]
			if !ok || back[ei] {
				continue
			}
			for m := range modes {
				if o := out[m]; o.ok && (!in[m][w].ok || o.at > in[m][w].at) {
					in[m][w] = o
				}
			}
		}
	}
}

// acyclicOrder returns the steps reachable from the entries in a topological order of the graph
// without its back edges (those a depth-first search from the entries finds closing a loop), and
// which edges, by index into wf.Edges, are back edges.
func acyclicOrder(g *graph) (order []int, back []bool) {
	n := len(g.wf.Steps)
	back = make([]bool, len(g.wf.Edges))
	state := make([]uint8, n) // 0 new, 1 on the search path, 2 finished
	type frame struct{ v, edge int }
	for _, root := range g.entries {
		if state[root] != 0 {
			continue
		}
		state[root] = 1
		call := []frame{{root, 0}}
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(g.out[f.v]) {
				ei := g.out[f.v][f.edge]
				f.edge++
				w, ok := g.pos[g.wf.Edges[ei].To]
				switch {
				case !ok:
				case state[w] == 1:
					back[ei] = true
				case state[w] == 0:
					state[w] = 1
					call = append(call, frame{w, 0})
				}
				continue
			}
			state[f.v] = 2
			order = append(order, f.v)
			call = call[:len(call)-1]
		}
	}
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	return order, back
}

// formatOffset writes a signed offset in minutes the way the builder shows it: "1 hour before".
func formatOffset(m int) string {
	when := "after"
	if m < 0 {
		when, m = "before", -m
	}
	var n int
	var unit string
	switch {
	case m != 0 && m%(24*60) == 0:
		n, unit = m/(24*60), "day"
	case m != 0 && m%60 == 0:
		n, unit = m/60, "hour"
	default:
		n, unit = m, "minute"
	}
	return fmt.Sprintf("%d %s %s", n, Plural(n, unit), when)
}

// formatNumber writes a duration value without a needless decimal part.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// firstSuccessor returns the first existing step that step i leads to, or nil.
func firstSuccessor(g *graph, i int) *Step {
	for _, ei := range g.out[i] {
		if s := g.step(g.wf.Edges[ei].To); s != nil {
			return s
		}
	}
	return nil
}
