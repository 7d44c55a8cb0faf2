package simulate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// aiTypes are step types whose output an AI decides; customCodeTypes run the location's own code.
var (
	aiTypes = []string{"chatgpt", "ai_agent", "conversation_ai", "workflow_ai_decision_maker", "ai_decision_maker", "openai", "gpt"}
	// customCodeTypes are step types running code the simulation cannot run.
	customCodeTypes = []string{"custom_code", "code"}
)

// outbound channels: the ones quiet hours apply to (texts and calls; email is not restricted).
var quietChannels = []string{analyzer.ChannelSMS, analyzer.ChannelCall, analyzer.ChannelVoicemail, analyzer.ChannelWhatsApp}

// Quiet hours: GHL contacts at most 08:00 to 21:00 in the recipient's local time under the TCPA
// (ghl-research.md §3.2).
const (
	quietEnd   = 8
	quietStart = 21
)

// advance runs r from its current step until it waits or ends.
func (e *engine) advance(r *run) {
	for r.active && e.err == nil {
		s := &r.f.wf.Steps[r.step]
		if r.windowPassed != r.step {
			e.res.Stats.StepsExecuted++
			if e.res.Stats.StepsExecuted > e.lim.MaxSteps {
				e.err = &LimitError{Limit: LimitSteps, Max: int64(e.lim.MaxSteps), Got: int64(e.res.Stats.StepsExecuted)}
				return
			}
			if r.f.execs[r.step].add(e.now) {
				e.lock(r.f, r, s.ID, fmt.Sprintf("step %q ran %d times for this contact within %s", stepName(s), LoopLockCount, durText(LoopLockWindow)))
				return
			}
		}
		next, pause := e.execStep(r, s)
		if pause || !r.active {
			return
		}
		e.moveTo(r, s, next)
	}
}

// moveTo continues r at the step next after s, or ends it when there is none.
func (e *engine) moveTo(r *run, s *analyzer.Step, next string) {
	if next == "" {
		e.note(r, s.ID, TraceExit, "Reached the end of the workflow.")
		reason := ExitCompleted
		if r.goalMet {
			reason = ExitGoal
		}
		e.exit(r, reason)
		return
	}
	j, ok := r.f.steps[next]
	if !ok {
		e.trace(r, s.ID, TraceExit, "The next step %q does not exist; GHL stops the contact here.", next)
		e.exit(r, ExitCompleted)
		return
	}
	r.step = j
}

// edge returns the target of the first of s's outgoing edges of one of kinds, in the order of
// kinds; found is false when there is none.
func edge(r *run, kinds ...string) (to string, found bool) {
	out := r.f.out[r.step]
	for _, k := range kinds {
		for _, ed := range out {
			if ed.Kind == k {
				return ed.To, true
			}
		}
	}
	return "", false
}

// nextStep is where a contact goes after a step that does not branch.
func nextStep(r *run) string {
	to, _ := edge(r, analyzer.EdgeNext, analyzer.EdgeGoto, analyzer.EdgeTransition)
	return to
}

// execStep runs one step. It returns the next step's id ("" for the end), or pause when the run
// waits.
func (e *engine) execStep(r *run, s *analyzer.Step) (next string, pause bool) {
	if len(s.Unread) > 0 {
		keys := make([]string, len(s.Unread))
		for i, u := range s.Unread {
			keys[i] = u.Key
		}
		e.assume(r, s.ID, AssumeUnreadStep, "Step %q has parts the importer could not read (%s); it runs as read.", stepName(s), strings.Join(keys, ", "))
	}
	switch s.Kind {
	case analyzer.KindMessage:
		return e.message(r, s)
	case analyzer.KindWait:
		return e.wait(r, s)
	case analyzer.KindCondition:
		return e.condition(r, s), false
	case analyzer.KindGoto:
		to := s.GotoTarget
		if to == "" {
			to, _ = edge(r, analyzer.EdgeGoto)
		}
		e.trace(r, s.ID, TraceStep, "Go to %q.", to)
		return to, false
	case analyzer.KindSplit:
		to, _ := edge(r, analyzer.EdgeTransition, analyzer.EdgeBranch, analyzer.EdgeNext)
		e.assume(r, s.ID, AssumeSplit, "Split %q sends contacts down its paths by chance; the simulation takes the first path.", stepName(s))
		return to, false
	case analyzer.KindEnroll:
		e.enroll(r, s)
	case analyzer.KindUnenroll:
		if e.unenroll(r, s) {
			return "", true
		}
	case analyzer.KindTagAdd, analyzer.KindTagRemove:
		e.tags(r, s)
	case analyzer.KindFieldUpdate:
		e.fields(r, s)
		if s.DND != nil {
			e.dnd(r, s)
		}
	case analyzer.KindDND:
		e.dnd(r, s)
	case analyzer.KindOpportunity:
		return e.opportunity(r, s)
	case analyzer.KindWebhook:
		url := ""
		if s.Webhook != nil {
			url = s.Webhook.URL
		}
		e.assume(r, s.ID, AssumeWebhook, "Webhook to %s is not called; the workflow continues as after a successful call (GHL continues after a failed one too).", cmpOr(url, "(no URL)"))
	case analyzer.KindGoal:
		e.assume(r, s.ID, AssumeWorkflowState, "The contact reached goal %q without meeting it; the simulation ends the workflow (GHL's \"end this workflow\" option; the step's choice is not in the model).", stepName(s))
		e.trace(r, s.ID, TraceExit, "Reached goal %q without meeting it.", stepName(s))
		e.exit(r, ExitCompleted)
		return "", true
	case analyzer.KindEventStartDate:
		r.eventStart = e.now
		if a := e.runAppt(r); a != nil {
			r.eventStart = a.Start
		}
		e.assume(r, s.ID, AssumeAppointment, "Set Event Start Date: the date it sets is not in the model; the simulation uses %s.", e.localText(r.eventStart))
	case analyzer.KindAppointment:
		e.assume(r, s.ID, AssumeAppointment, "Update Appointment Status %q is not simulated: the status it sets is not in the model.", stepName(s))
	case analyzer.KindNotification:
		e.trace(r, s.ID, TraceStep, "Internal notification %q (to the team; the contact receives nothing).", stepName(s))
	case analyzer.KindUnknown:
		e.assume(r, s.ID, AssumeUnknownStep, "Step %q has a type the importer does not know (%s); the simulation treats it as doing nothing and continues.", stepName(s), s.Type)
	default:
		typ := normType(s.Type)
		switch {
		case slices.ContainsFunc(aiTypes, func(t string) bool { return strings.Contains(typ, t) }):
			e.assume(r, s.ID, AssumeAIStep, "AI step %q (%s) is not run: its output is unknown, so anything it writes stays blank and the workflow continues.", stepName(s), s.Type)
		case slices.Contains(customCodeTypes, typ):
			e.assume(r, s.ID, AssumeCustomCode, "Custom code %q is not run; the workflow continues as after it succeeded.", stepName(s))
		default:
			e.trace(r, s.ID, TraceStep, "%s %q: no effect on the contact in the simulation.", s.Type, stepName(s))
		}
	}
	return nextStep(r), false
}

// message sends a message, unless a time window holds it or DND suppresses it.
func (e *engine) message(r *run, s *analyzer.Step) (string, bool) {
	m := s.Message
	if m == nil {
		e.trace(r, s.ID, TraceStep, "Message step %q has no content.", stepName(s))
		return nextStep(r), false
	}
	ch := strings.ToLower(m.Channel)
	if w := r.f.wf.Settings.TimeWindow; w != nil && r.windowPassed != r.step {
		if open, ok := e.nextOpen(r, e.now, w); ok && open.After(e.now) {
			r.hold(waitState{step: r.step, until: open, hold: true})
			r.windowed, r.windowZone = true, r.f.contactZone
			r.gen++
			e.push(item{at: open, kind: itemResume, r: r, gen: r.gen})
			// The sentence is built in the engine's buffer: one allocation, not one per part.
			b := append(e.buf[:0], "The workflow's time window ("...)
			b = append(append(append(b, r.f.windowText()...), ") holds this "...), ch...)
			b = append(e.appendLocalText(append(b, " until "...), open), '.')
			e.buf = b
			e.note(r, s.ID, TraceWait, string(b))
			return "", true
		}
	}
	r.windowPassed = -1
	if e.c.dndOn(ch) {
		e.trace(r, s.ID, TraceSuppress, "%s not sent: the contact has DND on for %s.", ch, ch)
		return nextStep(r), false
	}
	text, blanks, unknown := e.render(r, messageText(m))
	subject, sb, su := e.render(r, m.Subject)
	blanks = appendNew(blanks, sb...)
	unknown = appendNew(unknown, su...)
	if len(unknown) > 0 {
		e.assume(r, s.ID, AssumeMergeField, "Merge fields the simulation cannot know (%s) are left as written in the message.", strings.Join(unknown, ", "))
	}
	msg := Message{At: e.now, Local: e.local(e.now), Channel: ch, WorkflowID: r.f.wf.ID, Workflow: r.f.wf.Name, StepID: s.ID, Subject: subject, Text: text, BlankFields: blanks}
	e.res.Messages = append(e.res.Messages, msg)
	e.res.Stats.Messages++
	r.sent = true
	e.note(r, s.ID, TraceSend, e.sentDetail(r, s, ch, text))
	e.messageFindings(r, s, &msg)
	return nextStep(r), false
}

// sentDetail is the trace's sentence for sending text on channel ch: `sms sent: "Hi Ana".`. A step
// usually renders the same text each time, so its last sentence is kept and reused when the text
// and channel match.
func (e *engine) sentDetail(r *run, s *analyzer.Step, ch, text string) string {
	st := r.texts(s)
	if st != nil && st.sentDetail != "" && st.sentText == text && st.sentCh == ch {
		return st.sentDetail
	}
	b := append(append(e.buf[:0], ch...), " sent: "...)
	b = append(strconv.AppendQuote(b, clip(text, 80)), '.')
	e.buf = b
	detail := string(b)
	if st != nil {
		st.sentCh, st.sentText, st.sentDetail = ch, text, detail
	}
	return detail
}

// waitEnds is the trace's sentence for a wait that ends, kept per step.
func waitEnds(r *run, s *analyzer.Step) string {
	st := r.texts(s)
	if st != nil && st.waitEnds != "" {
		return st.waitEnds
	}
	detail := "Wait " + strconv.Quote(stepName(s)) + " ends."
	if st != nil {
		st.waitEnds = detail
	}
	return detail
}

// messageText is what the contact reads: an SMS body, or an email's HTML with its tags dropped.
func messageText(m *analyzer.Message) string {
	if m.Body != "" {
		return m.Body
	}
	if m.HTML != "" {
		return stripTags(m.HTML)
	}
	if m.TemplateID != "" {
		return "(email template " + m.TemplateID + ")"
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		// Fewer bytes than n means fewer characters too.
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func appendNew(dst []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(dst, it) {
			dst = append(dst, it)
		}
	}
	return dst
}

// messageFindings checks one sent message against what the contact should never receive.
func (e *engine) messageFindings(r *run, s *analyzer.Step, m *Message) {
	// Only the hour and "15:04" are read, so the wall clock from the cached offset serves.
	local := e.clock.wall(e.now)
	if slices.Contains(quietChannels, m.Channel) && (local.Hour() < quietEnd || local.Hour() >= quietStart) && e.fresh(FindingQuietHours, r, s.ID) {
		switch {
		case r.windowed && !r.windowZone && e.zone.String() != r.f.zone.String():
			e.finding(FindingQuietHours, SeverityError, r, s.ID, "WD029",
				"%s at %s the contact's time: the time window let it through, but it is held in %s, not the contact's.", m.Channel, local.Format("15:04"), r.f.zoneLabel)
		case r.windowed:
			e.finding(FindingQuietHours, SeverityError, r, s.ID, "WD028",
				"%s at %s the contact's time: the workflow's time window allows hours outside 08:00-21:00.", m.Channel, local.Format("15:04"))
		case r.fromWait:
			e.finding(FindingQuietHours, SeverityError, r, s.ID, "WD027",
				"%s at %s the contact's time, outside 08:00-21:00: a wait released it and no time window holds it.", m.Channel, local.Format("15:04"))
		default:
			e.finding(FindingQuietHours, SeverityWarning, r, s.ID, "",
				"%s at %s the contact's time, outside 08:00-21:00, right after the contact's own action.", m.Channel, local.Format("15:04"))
		}
	}
	var outs []string
	for ch := range e.c.optOuts {
		outs = append(outs, ch)
	}
	slices.Sort(outs)
	for _, ch := range outs {
		at := e.c.optOuts[ch]
		switch {
		case ch == m.Channel && e.c.dndClearedBy[ch] != "":
			e.finding(FindingAfterOptOut, SeverityError, r, s.ID, "WD032",
				"%s sent after the contact opted out of %s (%s): workflow %q turned DND off again.", m.Channel, ch, e.localText(at), e.c.dndClearedBy[ch])
		case ch != m.Channel && !e.optOutNoted[m.Channel]:
			e.optOutNoted[m.Channel] = true
			e.finding(FindingAfterOptOut, SeverityInfo, r, s.ID, "WD023",
				"%s sent after the contact opted out of %s (%s): the opt-out covers %s only.", m.Channel, ch, e.localText(at), ch)
		}
	}
	if len(m.BlankFields) > 0 && e.fresh(FindingBlankMergeField, r, s.ID) {
		e.finding(FindingBlankMergeField, SeverityWarning, r, s.ID, "WD036",
			"The %s renders with blank merge fields: %s.", m.Channel, strings.Join(m.BlankFields, ", "))
	}
	// Each fresh check hashes the finding's key, so each is asked once per message.
	if id := r.apptRef(); id != "" {
		freshCancel, freshAfter := e.fresh(FindingAfterCancel, r, s.ID), e.fresh(FindingAfterAppointment, r, s.ID)
		if !freshCancel && !freshAfter {
			return
		}
		if i := e.c.appt(id); i >= 0 {
			a := e.c.appts[i]
			at, cancelled := e.c.cancelledAt[id]
			switch {
			case a.Status == AppointmentCancelled && cancelled && !r.startedByCancel():
				// A reminder sequence keeps sending after a cancellation, and the finding is
				// reported once: checking first skips building its sentence every other time,
				// which was a fifth of all the allocations of a busy run.
				if !freshCancel {
					break
				}
				rule := ""
				if r.trig != nil && !hasFilter(r.trig, "appointment.status") {
					rule = "WD013"
				}
				e.finding(FindingAfterCancel, SeverityError, r, s.ID, rule,
					"%s about appointment %s sent after it was cancelled (%s): nothing removes the contact from this workflow on cancellation.", m.Channel, id, e.localText(at))
			case r.beforeAppt && e.now.After(a.Start):
				if !freshAfter {
					break
				}
				rule := ""
				if r.windowed {
					rule = "WD030"
				}
				e.finding(FindingAfterAppointment, SeverityWarning, r, s.ID, rule,
					"Reminder %s sent at %s, after the appointment it reminds of started (%s).", m.Channel, local.Format("15:04"), e.localText(a.Start))
			}
		}
	}
}

// startedByCancel reports whether the run was started by a cancellation, so its messages are meant
// to follow it.
func (r *run) startedByCancel() bool {
	return r.trigger != nil && (r.trigger.Type == EventAppointmentCancelled ||
		(r.trigger.Type == EventAppointmentStatus && strings.EqualFold(r.trigger.Status, AppointmentCancelled)))
}

func hasFilter(t *analyzer.Trigger, field string) bool {
	return slices.ContainsFunc(t.Filters, func(f analyzer.Filter) bool { return strings.EqualFold(f.Field, field) })
}

// apptRef is the appointment a run is about: the one that started it, or the one its last
// appointment wait waited for.
func (r *run) apptRef() string {
	return cmpOr(r.waitAppt, r.appt)
}

// runAppt is the appointment a run's appointment waits refer to: the one that started it, or the
// contact's next upcoming appointment that is not cancelled.
func (e *engine) runAppt(r *run) *Appointment {
	if r.appt != "" {
		if i := e.c.appt(r.appt); i >= 0 {
			return &e.c.appts[i]
		}
	}
	var best *Appointment
	for i := range e.c.appts {
		a := &e.c.appts[i]
		if a.Status == AppointmentCancelled || a.Start.Before(e.now) {
			continue
		}
		if best == nil || a.Start.Before(best.Start) {
			best = a
		}
	}
	return best
}

// condition evaluates an if/else and returns the branch's first step.
func (e *engine) condition(r *run, s *analyzer.Step) string {
	var values []ConditionValue
	if s.Condition != nil {
		for bi, b := range s.Condition.Branches {
			ok, vals := e.clauses(r, s, b.Clauses)
			values = append(values, vals...)
			if ok {
				to := branchEdge(r, b, bi)
				te := e.trace(r, s.ID, TraceBranch, "If/else %q: branch %q matches.", stepName(s), branchName(b, bi))
				te.decide(branchName(b, bi), values)
				return to
			}
		}
	}
	to, found := edge(r, analyzer.EdgeElse)
	label := "None"
	for _, ed := range r.f.out[r.step] {
		if ed.Kind == analyzer.EdgeElse && ed.Label != "" {
			label = ed.Label
			break
		}
	}
	detail := fmt.Sprintf("If/else %q: no branch matches, so the %q branch runs.", stepName(s), label)
	if !found {
		detail = fmt.Sprintf("If/else %q: no branch matches and the workflow has no %q branch, so the contact's path ends.", stepName(s), label)
	}
	te := e.trace(r, s.ID, TraceBranch, "%s", detail)
	te.decide(label, values)
	return to
}

func branchName(b analyzer.Branch, i int) string {
	return cmpOr(b.Name, fmt.Sprintf("Branch %d", i+1))
}

// branchEdge finds the edge of branch b (the i-th): by GHL's branch id, by name, then by position.
func branchEdge(r *run, b analyzer.Branch, i int) string {
	var branches []analyzer.Edge
	for _, ed := range r.f.out[r.step] {
		if ed.Kind == analyzer.EdgeBranch {
			branches = append(branches, ed)
		}
	}
	if b.ID != "" {
		for _, ed := range branches {
			if ed.BranchID == b.ID {
				return ed.To
			}
		}
	}
	if b.Name != "" {
		for _, ed := range branches {
			if ed.Label == b.Name {
				return ed.To
			}
		}
	}
	if i < len(branches) {
		return branches[i].To
	}
	return ""
}

// enroll adds the contact to the workflows an add-to-workflow step names.
func (e *engine) enroll(r *run, s *analyzer.Step) {
	if s.Enrollment == nil || len(s.Enrollment.WorkflowIDs) == 0 {
		e.trace(r, s.ID, TraceStep, "Add to workflow %q names no workflow; nothing happens.", stepName(s))
		return
	}
	for _, id := range s.Enrollment.WorkflowIDs {
		f := e.byID[id]
		if f == nil {
			e.trace(r, s.ID, TraceStep, "Add to workflow %q: %q is not a published workflow of this location, so GHL adds the contact to nothing.", stepName(s), id)
			continue
		}
		e.trace(r, s.ID, TraceStep, "Add to workflow %q.", f.wf.Name)
		e.push(item{at: e.now, kind: itemEnter, f: f, by: fmt.Sprintf("add to workflow from %q step %s", r.f.wf.Name, s.ID), ev: r.trigger})
	}
}

// unenroll removes the contact from workflows. It reports whether the running workflow itself was
// among them.
func (e *engine) unenroll(r *run, s *analyzer.Step) bool {
	en := s.Enrollment
	switch {
	case en == nil:
		e.trace(r, s.ID, TraceStep, "Remove from workflow %q names no workflow; nothing happens.", stepName(s))
		return false
	case en.BareString:
		e.trace(r, s.ID, TraceStep, "Remove from workflow %q gives the workflow as a bare string, which GHL ignores: the contact is removed from nothing.", stepName(s))
		return false
	case !en.All && len(en.WorkflowIDs) == 0:
		e.trace(r, s.ID, TraceStep, "Remove from workflow %q names no workflow; nothing happens.", stepName(s))
		return false
	}
	self := false
	for _, x := range e.runningNow() {
		if !x.active {
			continue
		}
		hit := slices.Contains(en.WorkflowIDs, x.f.wf.ID) || (en.All && x != r)
		if !hit {
			continue
		}
		if x == r {
			self = true
			continue
		}
		e.trace(x, x.f.wf.Steps[x.step].ID, TraceExit, "Removed by %q step %s.", r.f.wf.Name, s.ID)
		e.exit(x, ExitRemoved)
	}
	if self {
		e.note(r, s.ID, TraceExit, "Removes the contact from this workflow.")
		e.exit(r, ExitRemoved)
	} else {
		e.trace(r, s.ID, TraceStep, "Remove from workflow %q done.", stepName(s))
	}
	return self
}

// source names a step for the internal events its writes fire. The name is the same every time
// the step runs, so it is kept (when s is the run's current step, as it is for every write).
func source(r *run, s *analyzer.Step) string {
	st := r.texts(s)
	if st != nil && st.source != "" {
		return st.source
	}
	src := fmt.Sprintf("written by %q step %s", r.f.wf.Name, s.ID)
	if st != nil {
		st.source = src
	}
	return src
}

// stepTexts are sentences about one step of a workflow that stay the same every time a run passes
// it. A busy location passes the same steps thousands of times, and writing these afresh was a
// large part of the garbage a run made.
type stepTexts struct {
	// source is the step as source names it.
	source string
	// waitEnds is the trace's "Wait "name" ends.".
	waitEnds string
	// sentCh and sentText are the channel and text of the last message the step sent, and
	// sentDetail the trace's sentence about sending it; a message renders the same each time unless
	// the merge fields it uses changed.
	sentCh, sentText, sentDetail string
}

// texts returns the cached sentences of s when s is the step r is at, and nil otherwise (the
// caller then writes them afresh).
func (r *run) texts(s *analyzer.Step) *stepTexts {
	f := r.f
	if r.step < 0 || r.step >= len(f.wf.Steps) || &f.wf.Steps[r.step] != s {
		return nil
	}
	if f.texts == nil {
		f.texts = make([]stepTexts, len(f.wf.Steps))
	}
	return &f.texts[r.step]
}

// tags adds or removes tags; a tag newly added fires Contact Tag triggers.
func (e *engine) tags(r *run, s *analyzer.Step) {
	for _, raw := range s.Tags {
		t, _, _ := e.render(r, raw)
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if s.Kind == analyzer.KindTagAdd {
			if e.c.hasTag(t) {
				e.trace(r, s.ID, TraceWrite, "Tag %q is already on the contact; nothing fires.", t)
				continue
			}
			e.c.tags = append(e.c.tags, t)
			e.note(r, s.ID, TraceWrite, "Tag "+strconv.Quote(t)+" added.")
			e.internal(&Event{At: e.now, Type: EventTagAdded, Tag: t}, source(r, s))
			continue
		}
		i := slices.IndexFunc(e.c.tags, func(x string) bool { return strings.EqualFold(x, t) })
		if i < 0 {
			e.trace(r, s.ID, TraceWrite, "Tag %q is not on the contact; nothing to remove.", t)
			continue
		}
		e.c.tags = slices.Delete(e.c.tags, i, i+1)
		e.trace(r, s.ID, TraceWrite, "Tag %q removed.", t)
		e.internal(&Event{At: e.now, Type: EventTagRemoved, Tag: t}, source(r, s))
	}
}

// internal queues an event a step's write caused. The state change is already made; the event
// only fires triggers, goals and waits, after the running workflow pauses or ends.
func (e *engine) internal(ev *Event, src string) {
	e.push(item{at: e.now, kind: itemEvent, ev: ev, source: src})
}

// fields writes contact fields; a changed value fires Contact Changed triggers.
func (e *engine) fields(r *run, s *analyzer.Step) {
	for _, w := range s.Fields {
		key := e.fieldKey(w.Field)
		if key == "dnd" {
			continue
		}
		v, _, unknown := e.render(r, w.Value)
		if len(unknown) > 0 {
			v = ""
			e.assume(r, s.ID, AssumeMergeField, "Field %s is set from %s, which the simulation cannot know; it is written blank.", key, strings.Join(unknown, ", "))
		}
		if e.c.fields[key] == v {
			e.trace(r, s.ID, TraceWrite, "Field %s already %q; no change fires.", key, v)
			continue
		}
		e.c.fields[key] = v
		e.trace(r, s.ID, TraceWrite, "Field %s set to %q.", key, v)
		e.internal(&Event{At: e.now, Type: EventFieldChanged, Field: key, Value: v}, source(r, s))
	}
}

// dnd turns do-not-disturb on or off.
func (e *engine) dnd(r *run, s *analyzer.Step) {
	d := s.DND
	if d == nil {
		return
	}
	chans := d.Channels
	if len(chans) == 0 {
		chans = []string{"all"}
	}
	for _, ch := range chans {
		ch = strings.ToLower(ch)
		if ch == "all" && !d.Enable {
			// Clearing DND on every channel clears each channel's own flag too.
			for k := range e.c.dnd {
				e.c.dnd[k] = false
			}
			for k := range e.c.optOuts {
				e.c.dndClearedBy[k] = r.f.wf.Name
			}
		}
		if e.c.dnd[ch] == d.Enable && ch != "all" {
			continue
		}
		e.c.dnd[ch] = d.Enable
		if !d.Enable {
			if _, out := e.c.optOuts[ch]; out {
				e.c.dndClearedBy[ch] = r.f.wf.Name
			}
		}
		state := "off"
		if d.Enable {
			state = "on"
		}
		e.trace(r, s.ID, TraceWrite, "DND turned %s for %s.", state, ch)
		e.internal(dndEvent(e.now, ch, d.Enable), source(r, s))
	}
}

// opportunity creates, updates, finds or removes the contact's opportunity.
func (e *engine) opportunity(r *run, s *analyzer.Step) (string, bool) {
	op := s.Opportunity
	if op == nil {
		e.trace(r, s.ID, TraceStep, "Opportunity step %q has no configuration; nothing happens.", stepName(s))
		return nextStep(r), false
	}
	c := &e.c
	i := c.opp(op.PipelineID)
	switch op.Op {
	case "find":
		found := i >= 0
		want := "found"
		if !found {
			want = "not found"
		}
		for _, ed := range r.f.out[r.step] {
			if ed.Kind != analyzer.EdgeTransition {
				continue
			}
			if strings.Contains(strings.ToLower(ed.Label), "not") != found {
				e.trace(r, s.ID, TraceBranch, "Find opportunity: %s, so path %q runs.", want, ed.Label).decide(ed.Label, nil)
				return ed.To, false
			}
		}
		e.trace(r, s.ID, TraceStep, "Find opportunity: %s.", want)
	case "remove", "delete":
		if i >= 0 {
			c.opps = slices.Delete(c.opps, i, i+1)
		}
		e.trace(r, s.ID, TraceWrite, "Opportunity in %s removed.", cmpOr(op.PipelineID, "the pipeline"))
	case "create":
		if i >= 0 && !r.f.wf.Settings.AllowMultipleOpportunity {
			e.trace(r, s.ID, TraceWrite, "The contact already has an opportunity in %s; GHL updates it instead of creating another.", op.PipelineID)
			e.updateOpp(r, s, i, op)
			break
		}
		o := Opportunity{PipelineID: op.PipelineID, StageID: e.firstStage(op.PipelineID, op.StageID), Status: cmpOr(op.Status, "open")}
		c.opps = append(c.opps, o)
		e.trace(r, s.ID, TraceWrite, "Opportunity created in %s at stage %s.", cmpOr(o.PipelineID, "(no pipeline)"), cmpOr(o.StageID, "(none)"))
		e.internal(&Event{At: e.now, Type: EventOpportunityCreated, PipelineID: o.PipelineID, StageID: o.StageID, Status: o.Status}, source(r, s))
	default:
		if i < 0 {
			e.trace(r, s.ID, TraceWrite, "The contact has no opportunity in %s to update; nothing happens.", cmpOr(op.PipelineID, "the pipeline"))
			break
		}
		e.updateOpp(r, s, i, op)
	}
	return nextStep(r), false
}

func (e *engine) updateOpp(r *run, s *analyzer.Step, i int, op *analyzer.Opportunity) {
	o := &e.c.opps[i]
	if op.StageID != "" && o.StageID != op.StageID {
		o.StageID = op.StageID
		e.trace(r, s.ID, TraceWrite, "Opportunity in %s moved to stage %s.", o.PipelineID, o.StageID)
		e.internal(&Event{At: e.now, Type: EventStageChanged, PipelineID: o.PipelineID, StageID: o.StageID}, source(r, s))
	}
	if st := strings.ToLower(op.Status); st != "" && o.Status != st {
		o.Status = st
		e.trace(r, s.ID, TraceWrite, "Opportunity in %s set to %s.", o.PipelineID, st)
		e.internal(&Event{At: e.now, Type: EventOpportunityStatus, PipelineID: o.PipelineID, Status: st}, source(r, s))
	}
}

// wait starts a wait step. It returns pause when the contact is held.
func (e *engine) wait(r *run, s *analyzer.Step) (string, bool) {
	w := s.Wait
	mode := analyzer.WaitUnknown
	if w != nil {
		mode = w.Mode
	}
	var until time.Time
	switch mode {
	case analyzer.WaitTime:
		if w.Duration == nil || w.Duration.Value <= 0 {
			e.trace(r, s.ID, TraceWait, "Wait %q has no duration: GHL does not pause on it.", stepName(s))
			until = e.now
		} else {
			until = e.addDuration(r, e.now, w.Duration)
		}
	case analyzer.WaitAppointment, analyzer.WaitEventTime:
		var at time.Time
		if mode == analyzer.WaitAppointment {
			a := e.runAppt(r)
			if a == nil {
				e.assume(r, s.ID, AssumeAppointment, "Appointment wait %q: the contact has no upcoming appointment; the simulation continues at once.", stepName(s))
				return nextStep(r), false
			}
			if r.appt == "" {
				e.assume(r, s.ID, AssumeAppointment, "Appointment wait %q in a workflow not started by an appointment: the simulation uses the contact's next appointment (%s).", stepName(s), a.ID)
			}
			r.waitAppt = a.ID
			at = a.Start
		} else {
			if r.eventStart.IsZero() {
				e.assume(r, s.ID, AssumeAppointment, "Event-time wait %q with no Set Event Start Date before it: the simulation continues at once.", stepName(s))
				return nextStep(r), false
			}
			at = r.eventStart
		}
		until = offsetTime(at, w.Offset)
		if w.Offset != nil && w.Offset.When == "before" {
			r.beforeAppt = true
		}
		if !until.After(e.now) {
			e.trace(r, s.ID, TraceWait, "Wait %q: its moment (%s) has passed, so GHL moves to the next step.", stepName(s), e.localText(until))
			r.fromWait = true
			return nextStep(r), false
		}
	case analyzer.WaitReply, analyzer.WaitTriggerLink, analyzer.WaitEmailEvent, analyzer.WaitCondition:
		if mode == analyzer.WaitCondition {
			ok, vals := e.clauses(r, s, w.Conditions)
			if ok {
				te := e.trace(r, s.ID, TraceResume, "Wait %q: its condition is already true, so GHL releases the contact at once.", stepName(s))
				te.decide("", vals)
				return nextStep(r), false
			}
		}
		ws := r.hold(waitState{step: r.step, mode: mode})
		e.listWaiter(r)
		r.gen++
		if w.Timeout != nil && w.Timeout.Value > 0 {
			ws.until, ws.timeout = e.addDuration(r, e.now, w.Timeout), true
			e.push(item{at: ws.until, kind: itemResume, r: r, gen: r.gen, timeout: true})
			e.trace(r, s.ID, TraceWait, "Waits for %s, at most until %s.", waitLabel(mode), e.localText(ws.until))
		} else {
			e.trace(r, s.ID, TraceWait, "Waits for %s, with no timeout.", waitLabel(mode))
		}
		return "", true
	case analyzer.WaitDateTime:
		e.assume(r, s.ID, AssumeUnknownWait, "Wait %q until a date: the date is not in the model; the simulation continues at once.", stepName(s))
		return nextStep(r), false
	case analyzer.WaitRecurring:
		e.assume(r, s.ID, AssumeUnknownWait, "Recurring wait %q: the schedule is not in the model; the simulation continues at once.", stepName(s))
		return nextStep(r), false
	default:
		e.assume(r, s.ID, AssumeUnknownWait, "Wait %q has no configuration the importer could read; GHL does not pause on an empty wait, so the simulation continues at once.", stepName(s))
		return nextStep(r), false
	}
	if w.Window != nil {
		if open, ok := e.nextOpen(r, until, w.Window); ok && open.After(until) {
			until = open
			r.windowed, r.windowZone = true, r.f.contactZone
		}
	}
	if !until.After(e.now) {
		return nextStep(r), false
	}
	r.hold(waitState{step: r.step, mode: mode, until: until})
	e.listWaiter(r)
	r.gen++
	e.push(item{at: until, kind: itemResume, r: r, gen: r.gen})
	b := e.appendLocalText(append(e.buf[:0], "Waits until "...), until)
	b = append(append(append(b, " ("...), r.f.waitText(r.step)...), ")."...)
	e.buf = b
	e.note(r, s.ID, TraceWait, string(b))
	return "", true
}

// resume continues a run whose wait ended by time.
func (e *engine) resume(r *run, timeout bool) {
	ws := r.wait
	if ws == nil {
		return
	}
	r.wait = nil
	s := &r.f.wf.Steps[r.step]
	switch {
	case ws.hold:
		r.windowPassed = r.step
		e.note(r, s.ID, TraceResume, "The time window opens.")
		r.fromWait = true
		e.advance(r)
		return
	case timeout:
		e.trace(r, s.ID, TraceResume, "Wait %q timed out: %s did not happen.", stepName(s), waitLabel(ws.mode))
		r.fromWait = true
		to, found := edge(r, analyzer.EdgeTimeout)
		if !found {
			to = nextStep(r)
		}
		e.moveTo(r, s, to)
	default:
		e.note(r, s.ID, TraceResume, waitEnds(r, s))
		r.fromWait = true
		e.moveTo(r, s, nextStep(r))
	}
	e.advance(r)
}

// release ends an event wait because its event happened.
func (e *engine) release(r *run, why string, vals []ConditionValue) {
	s := &r.f.wf.Steps[r.step]
	r.wait = nil
	r.gen++
	te := e.trace(r, s.ID, TraceResume, "Wait %q ends: %s.", stepName(s), why)
	if vals != nil {
		te.decide("", vals)
	}
	r.fromWait = false
	r.windowed = false
	e.moveTo(r, s, nextStep(r))
	e.advance(r)
}

// waitLists are the wait modes an event can release or move (releaseWaits), in the order of the
// engine's waiters lists.
var waitLists = [...]string{analyzer.WaitCondition, analyzer.WaitReply, analyzer.WaitTriggerLink, analyzer.WaitEmailEvent, analyzer.WaitAppointment}

// waitList returns the index of mode in waitLists, or -1 when no event acts on waits of that mode.
func waitList(mode string) int {
	for i, m := range waitLists {
		if m == mode {
			return i
		}
	}
	return -1
}

// listWaiter records r, which has just started waiting, in the list of its wait's mode when an
// event can act on that wait.
//
// Most active runs are waiting at any moment, mostly on delays no event ends, and scanning all of
// them for every event was a tenth of a busy run. The lists are pruned lazily: an entry stays until
// a scan finds its run no longer waiting in that mode, so a run that leaves a wait and comes back
// to the same mode before the next scan is listed twice (waitingFor's callers drop the repeat).
func (e *engine) listWaiter(r *run) {
	if i := waitList(r.wait.mode); i >= 0 {
		e.waiters[i] = append(e.waiters[i], r)
	}
}

// waitingFor appends to out the runs waiting, not held by a time window, on a wait of mode, and
// drops from mode's list the runs no longer waiting there.
func (e *engine) waitingFor(mode string, out []*run) []*run {
	i := waitList(mode)
	if i < 0 {
		return out
	}
	list := e.waiters[i]
	kept := list[:0]
	for _, r := range list {
		if r.active && r.wait != nil && !r.wait.hold && r.wait.mode == mode {
			kept = append(kept, r)
			out = append(out, r)
		}
	}
	clear(list[len(kept):]) // Let the runs dropped be collected.
	e.waiters[i] = kept
	return out
}

// releaseWaits ends the event waits the event satisfies and moves appointment waits whose
// appointment moved.
func (e *engine) releaseWaits(h handled) {
	// Only the waits this event can end are visited: condition waits on every event, the others on
	// their own event.
	want := ""
	switch h.ev.Type {
	case EventCustomerReplied:
		want = analyzer.WaitReply
	case EventTriggerLinkClicked:
		want = analyzer.WaitTriggerLink
	case EventEmailEvent:
		want = analyzer.WaitEmailEvent
	case EventAppointmentRescheduled:
		want = analyzer.WaitAppointment
	}
	waiting := e.waitingFor(analyzer.WaitCondition, nil)
	if want != "" {
		waiting = e.waitingFor(want, waiting)
	}
	// The runs are visited in order of entry, as the list of active runs keeps them (a run's idx
	// is its place in that order). A run can appear twice in a list (see listWaiter), so after
	// sorting any repeat is next to the first.
	slices.SortFunc(waiting, func(a, b *run) int { return a.idx - b.idx })
	waiting = slices.Compact(waiting)
	for _, r := range waiting {
		if e.err != nil {
			return
		}
		if !r.active || r.wait == nil || r.wait.hold {
			continue
		}
		switch r.wait.mode {
		case analyzer.WaitReply:
			if h.ev.Type == EventCustomerReplied {
				e.release(r, fmt.Sprintf("the contact replied %q", clip(h.ev.Text, 40)), nil)
			}
		case analyzer.WaitTriggerLink:
			if h.ev.Type == EventTriggerLinkClicked {
				e.release(r, "the contact clicked "+cmpOr(h.ev.Link, "a trigger link"), nil)
			}
		case analyzer.WaitEmailEvent:
			if h.ev.Type == EventEmailEvent {
				e.release(r, "email event "+h.ev.Status, nil)
			}
		case analyzer.WaitCondition:
			s := &r.f.wf.Steps[r.step]
			if ok, vals := e.clauses(r, s, s.Wait.Conditions); ok {
				e.release(r, "its condition became true", vals)
			}
		case analyzer.WaitAppointment:
			if h.ev.Type != EventAppointmentRescheduled || h.appt != r.waitAppt {
				continue
			}
			s := &r.f.wf.Steps[r.step]
			a := e.c.appts[e.c.appt(h.appt)]
			until := offsetTime(a.Start, s.Wait.Offset)
			if until.Before(e.now) {
				until = e.now
			}
			r.wait.until = until
			r.gen++
			e.push(item{at: until, kind: itemResume, r: r, gen: r.gen})
			e.trace(r, s.ID, TraceWait, "The appointment moved: wait %q now ends at %s.", stepName(s), e.localText(until))
		}
	}
}

// goals moves every run with a goal the event meets to that goal.
func (e *engine) goals(h handled) {
	if !e.hasGoals {
		return
	}
	for _, r := range e.runningWhere(func(r *run) bool { return len(r.f.goals) > 0 }) {
		if e.err != nil {
			return
		}
		if !r.active {
			continue
		}
		for _, j := range r.f.goals {
			s := &r.f.wf.Steps[j]
			if !e.goalMet(r, s, h) {
				continue
			}
			r.wait = nil
			r.gen++
			r.step = j
			r.goalMet = true
			e.trace(r, s.ID, TraceStep, "Goal %q met (%s): the contact jumps to it.", stepName(s), describeEvent(h.ev))
			e.moveTo(r, s, nextStep(r))
			e.advance(r)
			break
		}
	}
}

// goalMet reports whether event h meets goal step s.
func (e *engine) goalMet(r *run, s *analyzer.Step, h handled) bool {
	g := s.Goal
	t := normType(g.Type)
	ev := h.ev
	match := func(got string) bool {
		if g.Value == "" {
			return true
		}
		for _, v := range strings.Split(g.Value, ",") {
			v = strings.TrimSpace(v)
			if strings.EqualFold(v, got) || e.forms[strings.ToLower(v)] == strings.ToLower(got) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.Contains(t, "tag") && strings.Contains(t, "remov"):
		return ev.Type == EventTagRemoved && match(ev.Tag)
	case strings.Contains(t, "tag"):
		return ev.Type == EventTagAdded && h.has("tag") && match(ev.Tag)
	case strings.Contains(t, "appointment"):
		return h.appt != "" && match(h.status)
	case strings.Contains(t, "form"):
		return ev.Type == EventFormSubmitted && match(ev.Form)
	case strings.Contains(t, "survey"):
		return ev.Type == EventSurveySubmitted && match(ev.Form)
	case strings.Contains(t, "link"):
		return ev.Type == EventTriggerLinkClicked && match(ev.Link)
	case strings.Contains(t, "email"):
		return ev.Type == EventEmailEvent && match(ev.Status)
	case strings.Contains(t, "opportunit") || strings.Contains(t, "stage"):
		return (ev.Type == EventStageChanged && match(ev.StageID)) || (ev.Type == EventOpportunityStatus && match(ev.Status))
	case strings.Contains(t, "pay") || strings.Contains(t, "invoice") || strings.Contains(t, "order"):
		return ev.Type == EventTrigger && (strings.Contains(normType(ev.Trigger), "pay") || strings.Contains(normType(ev.Trigger), "invoice") || strings.Contains(normType(ev.Trigger), "order"))
	}
	e.assume(r, s.ID, AssumeWorkflowState, "Goal %q of type %q is not simulated; it is never met.", stepName(s), g.Type)
	return false
}

func waitLabel(mode string) string {
	switch mode {
	case analyzer.WaitReply:
		return "a reply"
	case analyzer.WaitTriggerLink:
		return "a trigger link click"
	case analyzer.WaitEmailEvent:
		return "an email event"
	case analyzer.WaitCondition:
		return "a condition"
	}
	return mode
}

// waitText describes the wait of step j, computed once per workflow.
func (f *flow) waitText(j int) string {
	if f.waitTexts == nil {
		f.waitTexts = make([]string, len(f.wf.Steps))
	}
	if f.waitTexts[j] == "" {
		f.waitTexts[j] = waitText(f.wf.Steps[j].Wait)
	}
	return f.waitTexts[j]
}

// windowText describes the workflow's time window, computed once.
func (f *flow) windowText() string {
	if f.windowDesc == "" {
		f.windowDesc = windowText(f.wf.Settings.TimeWindow, f.zoneLabel)
	}
	return f.windowDesc
}

func waitText(w *analyzer.Wait) string {
	switch w.Mode {
	case analyzer.WaitTime:
		if w.Duration != nil {
			return fmt.Sprintf("time delay of %g %s", w.Duration.Value, w.Duration.Unit)
		}
	case analyzer.WaitAppointment, analyzer.WaitEventTime:
		if w.Offset != nil {
			return fmt.Sprintf("%s %s the %s", durText(time.Duration(w.Offset.Minutes)*time.Minute), w.Offset.When, map[bool]string{true: "appointment", false: "event"}[w.Mode == analyzer.WaitAppointment])
		}
		return "at the appointment"
	}
	return w.Mode + " wait"
}

// offsetTime is the moment an appointment- or event-relative wait ends.
func offsetTime(at time.Time, o *analyzer.Offset) time.Time {
	if o == nil {
		return at
	}
	d := time.Duration(o.Minutes) * time.Minute
	if o.When == "before" {
		return at.Add(-d)
	}
	return at.Add(d)
}
