package simulate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// optOutWords are the replies carriers and GHL treat as an opt-out (ghl-research.md §3.2); optInWords
// turn it back off.
var (
	optOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
	optInWords  = []string{"START", "UNSTOP", "YES"}
)

// dndTrigger is the internal event a DND change fires (GHL's DND trigger type).
const dndTrigger = analyzer.TriggerDND

// handled is an event after its state change: the attributes trigger filters and goals are matched
// against, and the trigger types it fires.
type handled struct {
	ev       *Event
	attrs    []attr
	triggers []string
	appt     string
	// status is the appointment status an appointment event sets.
	status string
}

// attr is one value an event describes, by the filter field that tests it.
type attr struct{ key, value string }

// set records the value of key (events describe few, so a list beats a map).
func (h *handled) set(key, value string) {
	for i := range h.attrs {
		if h.attrs[i].key == key {
			h.attrs[i].value = value
			return
		}
	}
	h.attrs = append(h.attrs, attr{key, value})
}

// get returns the value of key and whether the event describes it.
func (h *handled) get(key string) (string, bool) {
	for _, a := range h.attrs {
		if a.key == key {
			return a.value, true
		}
	}
	return "", false
}

// has reports whether the event gives key a value.
func (h *handled) has(key string) bool {
	v, _ := h.get(key)
	return v != ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// handleEvent applies one event: the contact's state, stop on response, goals, waits, triggers.
func (e *engine) handleEvent(ev *Event, source string) {
	if source == "" {
		e.note(nil, "", TraceEvent, describeEvent(ev))
	}
	h := e.apply(ev, source != "")
	if ev.Type == EventCustomerReplied {
		e.reply(ev)
	}
	e.goals(h)
	e.releaseWaits(h)
	e.fireTriggers(h, source)
	// Nothing keeps the attributes once the event is handled, so their slice serves the next event
	// (see apply).
	e.freeAttrs = append(e.freeAttrs, h.attrs[:0])
}

// triggeredBy is how a run entered by the workflow's trigger ti names it: "trigger <type>", written
// once per trigger rather than once per event.
func (f *flow) triggeredBy(ti int) string {
	if f.triggerBy == nil {
		f.triggerBy = make([]string, len(f.wf.Triggers))
	}
	if f.triggerBy[ti] == "" {
		f.triggerBy[ti] = "trigger " + f.wf.Triggers[ti].Type
	}
	return f.triggerBy[ti]
}

// describeEvent writes an event as the CLI's --event syntax reads it. Every request event is
// described in the trace, so the text is appended into one builder instead of joined from parts.
func describeEvent(ev *Event) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(ev.Type)
	var q []byte
	add := func(k, v string) {
		if v != "" {
			b.WriteByte(' ')
			b.WriteString(k)
			b.WriteByte('=')
			q = strconv.AppendQuote(q[:0], v)
			b.Write(q)
		}
	}
	add("form", ev.Form)
	add("tag", ev.Tag)
	add("text", ev.Text)
	add("channel", ev.Channel)
	if a := ev.Appointment; a != nil {
		add("appointment", a.ID)
		add("calendar", a.CalendarID)
		if !a.Start.IsZero() {
			add("start", a.Start.Format(time.RFC3339))
		}
	}
	add("pipeline", ev.PipelineID)
	add("stage", ev.StageID)
	add("status", ev.Status)
	add("field", ev.Field)
	add("value", ev.Value)
	add("link", ev.Link)
	add("trigger", ev.Trigger)
	keys := make([]string, 0, len(ev.Attributes))
	for k := range ev.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, ev.Attributes[k])
	}
	return b.String()
}

// apply changes the contact's state for ev and says which triggers it fires. An internal event
// (applied) was caused by a step that already changed the state; only its triggers are worked out.
func (e *engine) apply(ev *Event, applied bool) handled {
	c := &e.c
	// The attribute slice comes from the ones earlier events finished with: every event needs one,
	// and a step's write handles an internal event while the outer one is still in use, so each
	// event takes its own from a free list rather than sharing one buffer.
	h := handled{ev: ev}
	if n := len(e.freeAttrs); n > 0 {
		h.attrs, e.freeAttrs = e.freeAttrs[n-1], e.freeAttrs[:n-1]
	} else {
		h.attrs = make([]attr, 0, 8)
	}
	for _, k := range sortedKeys(ev.Attributes) {
		h.set(strings.ToLower(k), ev.Attributes[k])
	}
	switch ev.Type {
	case EventFormSubmitted:
		h.triggers = []string{analyzer.TriggerFormSubmitted}
		h.set("form.id", ev.Form)
		h.set("form", ev.Form)
	case EventSurveySubmitted:
		h.triggers = []string{analyzer.TriggerSurveySubmitted}
		h.set("survey.id", ev.Form)
		h.set("survey", ev.Form)
	case EventTagAdded:
		if !applied {
			if ev.Tag == "" || c.hasTag(ev.Tag) {
				// GHL fires Contact Tag when a tag is added, not when it is already there.
				return h
			}
			c.tags = append(c.tags, ev.Tag)
		}
		h.triggers = []string{analyzer.TriggerContactTag}
		h.set("tag", ev.Tag)
	case EventTagRemoved:
		if !applied {
			i := slices.IndexFunc(c.tags, func(t string) bool { return strings.EqualFold(t, ev.Tag) })
			if i < 0 {
				return h
			}
			c.tags = slices.Delete(c.tags, i, i+1)
		}
		h.set("tag", ev.Tag)
	case EventCustomerReplied:
		ch := strings.ToLower(cmpOr(ev.Channel, analyzer.ChannelSMS))
		h.triggers = []string{analyzer.TriggerCustomerReply}
		h.set("message.body", ev.Text)
		h.set("channel", ch)
		h.set("message.type", ch)
		word := strings.ToUpper(strings.TrimSpace(ev.Text))
		switch {
		case slices.Contains(optOutWords, word) && !c.dnd[ch]:
			c.dnd[ch] = true
			c.optOuts[ch] = e.now
			delete(c.dndClearedBy, ch)
			e.trace(nil, "", TraceWrite, "%q is an opt-out keyword: DND turned on for %s, as GHL does.", strings.TrimSpace(ev.Text), ch)
			e.push(item{at: e.now, kind: itemEvent, source: "reply", ev: dndEvent(e.now, ch, true)})
		case slices.Contains(optInWords, word) && c.dnd[ch] && c.optOuts[ch] != (time.Time{}):
			c.dnd[ch] = false
			delete(c.optOuts, ch)
			e.trace(nil, "", TraceWrite, "%q opts back in: DND turned off for %s.", strings.TrimSpace(ev.Text), ch)
			e.push(item{at: e.now, kind: itemEvent, source: "reply", ev: dndEvent(e.now, ch, false)})
		}
	case EventAppointmentBooked:
		a := *ev.Appointment
		a.Start = a.Start.UTC()
		if a.ID == "" {
			a.ID = fmt.Sprintf("appt-%d", len(c.appts)+1)
		}
		a.Status = cmpOr(a.Status, AppointmentConfirmed)
		if i := c.appt(a.ID); i >= 0 {
			c.appts[i] = a
		} else {
			c.addAppt(a)
		}
		h.appt, h.status = a.ID, a.Status
		h.triggers = []string{analyzer.TriggerAppointment, analyzer.TriggerCustomerAppointment}
		e.apptAttrs(&h, a, "false")
	case EventAppointmentCancelled, EventAppointmentRescheduled, EventAppointmentStatus:
		i := c.findAppt(ev.Appointment)
		if i < 0 {
			e.note(nil, "", TraceWrite, "The contact has no such appointment; the event changes nothing.")
			return h
		}
		a := &c.appts[i]
		rescheduled := "false"
		switch ev.Type {
		case EventAppointmentCancelled:
			a.Status = AppointmentCancelled
			c.cancelledAt[a.ID] = e.now
		case EventAppointmentRescheduled:
			a.Start = ev.Appointment.Start.UTC()
			a.Status = AppointmentConfirmed
			delete(c.cancelledAt, a.ID)
			rescheduled = "true"
			// GHL has no rescheduled status: it deletes and re-books, so booked fires again
			// (ghl-research.md §3.3).
			h.triggers = []string{analyzer.TriggerCustomerAppointment}
		case EventAppointmentStatus:
			a.Status = cmpOr(strings.ToLower(ev.Status), a.Status)
		}
		h.appt, h.status = a.ID, a.Status
		h.triggers = append([]string{analyzer.TriggerAppointment}, h.triggers...)
		e.apptAttrs(&h, *a, rescheduled)
	case EventStageChanged, EventOpportunityCreated, EventOpportunityStatus:
		e.applyOpportunity(ev, &h, applied)
	case EventContactCreated:
		h.triggers = []string{analyzer.TriggerContactCreated}
	case EventFieldChanged:
		key := e.fieldKey(ev.Field)
		if !applied {
			if c.fields[key] == ev.Value {
				return h
			}
			c.fields[key] = ev.Value
		}
		h.triggers = []string{analyzer.TriggerContactChanged}
		h.set("contact."+strings.ToLower(key), cmpOr(ev.Value, "\x00changed"))
	case EventCallStatus:
		h.triggers = []string{analyzer.TriggerCallStatus}
		h.set("call.status", ev.Status)
	case EventTriggerLinkClicked:
		h.triggers = []string{analyzer.TriggerTriggerLink}
		h.set("link.id", ev.Link)
		h.set("link", ev.Link)
	case EventEmailEvent:
		h.triggers = []string{"mailgun_email_event"}
		h.set("email.event", ev.Status)
		h.set("status", ev.Status)
	case EventTrigger:
		h.triggers = []string{normType(ev.Trigger)}
		if normType(ev.Trigger) == dndTrigger && !applied {
			// The DND trigger fires when DND changes; an event naming it changes it too.
			ch := cmpOr(strings.ToLower(ev.Attributes["channel"]), "all")
			c.dnd[ch] = ev.Attributes["dnd"] != "off"
		}
	}
	return h
}

func dndEvent(at time.Time, channel string, on bool) *Event {
	v := "off"
	if on {
		v = "on"
	}
	return &Event{At: at, Type: EventTrigger, Trigger: dndTrigger, Attributes: map[string]string{"channel": channel, "dnd": v}}
}

func (e *engine) apptAttrs(h *handled, a Appointment, rescheduled string) {
	h.set("appointment.status", a.Status)
	h.set("status", a.Status)
	h.set("calendar.id", a.CalendarID)
	h.set("appointment.rescheduled", rescheduled)
	h.set("appointment.appointmentrescheduled", rescheduled)
}

// applyOpportunity places, creates or changes the status of an opportunity.
func (e *engine) applyOpportunity(ev *Event, h *handled, applied bool) {
	c := &e.c
	i := c.opp(ev.PipelineID)
	if applied && i >= 0 {
		h.triggers = []string{map[string]string{
			EventOpportunityCreated: analyzer.TriggerOpportunityCreated,
			EventStageChanged:       analyzer.TriggerPipelineStage,
			EventOpportunityStatus:  analyzer.TriggerOpportunityStatus,
		}[ev.Type]}
		o := c.opps[i]
		h.set("pipeline.id", o.PipelineID)
		h.set("pipeline.stage.id", o.StageID)
		h.set("opportunity.status", o.Status)
		return
	}
	switch ev.Type {
	case EventOpportunityCreated:
		o := Opportunity{PipelineID: ev.PipelineID, StageID: e.firstStage(ev.PipelineID, ev.StageID), Status: cmpOr(ev.Status, "open")}
		if i >= 0 {
			c.opps[i] = o
		} else {
			c.opps = append(c.opps, o)
		}
		h.triggers = []string{analyzer.TriggerOpportunityCreated}
		i = c.opp(o.PipelineID)
	case EventStageChanged:
		if i < 0 {
			c.opps = append(c.opps, Opportunity{PipelineID: ev.PipelineID, Status: "open"})
			i = len(c.opps) - 1
		}
		if c.opps[i].StageID == ev.StageID {
			return
		}
		c.opps[i].StageID = ev.StageID
		h.triggers = []string{analyzer.TriggerPipelineStage}
	case EventOpportunityStatus:
		if i < 0 {
			c.opps = append(c.opps, Opportunity{PipelineID: ev.PipelineID})
			i = len(c.opps) - 1
		}
		st := strings.ToLower(ev.Status)
		if c.opps[i].Status == st {
			return
		}
		c.opps[i].Status = st
		h.triggers = []string{analyzer.TriggerOpportunityStatus}
	}
	o := c.opps[i]
	h.set("pipeline.id", o.PipelineID)
	h.set("pipeline.stage.id", o.StageID)
	h.set("opportunity.status", o.Status)
}

// firstStage is stage, or the pipeline's first stage when stage is empty: GHL puts an opportunity
// created without a stage in the first one.
func (e *engine) firstStage(pipeline, stage string) string {
	if stage != "" || e.loc.Context == nil {
		return stage
	}
	for _, p := range e.loc.Context.Pipelines {
		if p.ID == pipeline && len(p.Stages) > 0 {
			return p.Stages[0].ID
		}
	}
	return stage
}

func (c *state) appt(id string) int {
	if i, ok := c.apptIdx[id]; ok {
		return i
	}
	return -1
}

// addAppt adds an appointment; an id given twice keeps its first place.
func (c *state) addAppt(a Appointment) {
	if c.apptIdx == nil {
		c.apptIdx = map[string]int{}
	}
	if i, ok := c.apptIdx[a.ID]; ok {
		c.appts[i] = a
		return
	}
	c.apptIdx[a.ID] = len(c.appts)
	c.appts = append(c.appts, a)
}

// findAppt finds the appointment an event names, or the latest-starting one that is not
// cancelled when it names none (GHL's update-appointment rule, ghl-research.md §2.4).
func (c *state) findAppt(a *Appointment) int {
	if a != nil && a.ID != "" {
		return c.appt(a.ID)
	}
	best := -1
	for i, x := range c.appts {
		if x.Status == AppointmentCancelled {
			continue
		}
		if best < 0 || x.Start.After(c.appts[best].Start) {
			best = i
		}
	}
	return best
}

func (c *state) opp(pipeline string) int {
	if pipeline == "" && len(c.opps) > 0 {
		return 0
	}
	return slices.IndexFunc(c.opps, func(o Opportunity) bool { return o.PipelineID == pipeline })
}

// fieldKey turns a field reference (a key, "contact.key" or a custom field's id) into a key.
func (e *engine) fieldKey(f string) string {
	f = strings.TrimSpace(f)
	f = strings.TrimSuffix(strings.TrimPrefix(f, "{{"), "}}")
	f = strings.TrimSpace(f)
	if k, ok := e.customFields[f]; ok {
		return k
	}
	f = strings.TrimPrefix(f, "contact.")
	if k, ok := e.customFields[f]; ok {
		return k
	}
	return f
}

// reply applies a reply to the runs the contact is in: stop on response, and what conditions about
// replies see.
func (e *engine) reply(ev *Event) {
	for _, r := range e.active {
		if r.active {
			r.replied, r.lastReply = true, ev.Text
		}
	}
	stop := e.runningWhere(func(r *run) bool { return r.f.wf.Settings.StopOnResponse && r.sent })
	for _, r := range stop {
		if r.active {
			e.note(r, r.f.wf.Steps[r.step].ID, TraceExit, "Stop on response: the contact replied to a message this workflow sent, so GHL ends the workflow for them.")
			e.exit(r, ExitStopOnResponse)
		}
	}
}

// normType normalizes a trigger or goal type for comparison.
func normType(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("-", "_", " ", "_").Replace(s)
}

// fireTriggers enters the contact into every published workflow with a trigger the event matches.
func (e *engine) fireTriggers(h handled, source string) {
	if len(h.triggers) == 0 {
		return
	}
	for _, f := range e.flows {
		for ti := range f.wf.Triggers {
			t := &f.wf.Triggers[ti]
			if !t.Active || !e.triggerType(t, h) {
				continue
			}
			ok, why := e.filtersMatch(f, ti, h)
			if !ok {
				continue
			}
			by := f.triggeredBy(ti)
			if source != "" {
				by += " (" + source + ")"
			}
			e.enterRun(f, by, t, h, why)
			break
		}
		if e.err != nil {
			return
		}
	}
}

// triggerType reports whether the event fires trigger t's type.
func (e *engine) triggerType(t *analyzer.Trigger, h handled) bool {
	for _, typ := range h.triggers {
		if h.ev.Type == EventTrigger {
			if normType(t.Type) == typ || normType(t.RawType) == typ {
				return true
			}
			continue
		}
		if t.Known && t.Type == typ {
			return true
		}
	}
	return false
}

// filtersMatch evaluates a trigger's filters against the event. A filter about something the event
// does not describe is assumed to match (and recorded), so a sparse event still reaches the
// workflows a real one would.
//
// The reason names the filters that matched. When none had to be assumed that is every filter of
// the trigger, the same sentence each time, so it is kept per trigger (filterTexts).
func (e *engine) filtersMatch(f *flow, ti int, h handled) (bool, string) {
	t := &f.wf.Triggers[ti]
	var assumed []string
	// skipped marks the filters left out of the reason because they were assumed; it is made only
	// when one is.
	var skipped []bool
	for fi, fl := range t.Filters {
		field := strings.ToLower(fl.Field)
		got, ok := h.get(field)
		if !ok || got == "" {
			if strings.HasPrefix(field, "contact.") && fl.Operator != "has_changed" && h.ev.Type != EventFieldChanged {
				// A contact-field filter on another trigger tests the contact's field.
				got, ok = e.c.fields[e.fieldKey(field)], true
			}
		}
		if !ok || got == "" {
			if t.Type == analyzer.TriggerContactChanged && h.ev.Type == EventFieldChanged {
				// Contact Changed watches fields: a change to another field does not fire it.
				return false, ""
			}
			assumed = append(assumed, fl.Field)
			skipped = skip(skipped, len(t.Filters), fi)
			continue
		}
		if got == "\x00changed" {
			got = ""
		}
		match, known := e.testFilter(fl, field, got)
		if !known {
			assumed = append(assumed, fl.Field+" "+fl.Operator)
			skipped = skip(skipped, len(t.Filters), fi)
			continue
		}
		if !match {
			return false, ""
		}
	}
	var detail string
	if skipped == nil {
		detail = f.filterText(ti)
	} else {
		detail = filterText(t.Filters, skipped)
	}
	if len(t.Unread) > 0 || len(assumed) > 0 {
		var parts []string
		for _, u := range t.Unread {
			parts = append(parts, u.Key)
		}
		parts = append(parts, assumed...)
		e.assume(&run{f: f}, "", AssumeTrigger, "Trigger %s of %q: %s cannot be tested against this event; assumed to match.",
			t.Type, f.wf.Name, strings.Join(parts, ", "))
	}
	return true, detail
}

// testFilter tests one filter value. known is false for an operator the engine does not know.
func (e *engine) testFilter(fl analyzer.Filter, field, got string) (match, known bool) {
	eq := func(v string) bool {
		if strings.EqualFold(v, got) {
			return true
		}
		if field == "form" || field == "form.id" || field == "survey" || field == "survey.id" {
			return e.forms[strings.ToLower(v)] == strings.ToLower(got)
		}
		return false
	}
	switch fl.Operator {
	case "", "eq", "in":
		return len(fl.Values) == 0 || slices.ContainsFunc(fl.Values, eq), true
	case "neq", "not_in":
		return !slices.ContainsFunc(fl.Values, eq), true
	case "contains":
		return slices.ContainsFunc(fl.Values, func(v string) bool {
			return strings.Contains(strings.ToLower(got), strings.ToLower(v))
		}), true
	case "not_contains":
		return !slices.ContainsFunc(fl.Values, func(v string) bool {
			return strings.Contains(strings.ToLower(got), strings.ToLower(v))
		}), true
	case "has_value", "has_changed":
		return true, true
	case "has_no_value":
		return false, true
	}
	return false, false
}

// skip marks filter i of n as skipped, making the marks on first use.
func skip(marks []bool, n, i int) []bool {
	if marks == nil {
		marks = make([]bool, n)
	}
	marks[i] = true
	return marks
}

// filterText describes the filters not skipped as a trigger's reason to fire: `form = "f1", tag =
// "vip"`, or "no filters".
func filterText(filters []analyzer.Filter, skipped []bool) string {
	var why []string
	for i, fl := range filters {
		if skipped == nil || !skipped[i] {
			why = append(why, fl.Field+" "+opText(fl.Operator)+" "+quoteList(fl.Values))
		}
	}
	if len(why) == 0 {
		return "no filters"
	}
	return strings.Join(why, ", ")
}

// filterText is the reason trigger ti fires when all its filters matched, written once.
func (f *flow) filterText(ti int) string {
	if f.filterTexts == nil {
		f.filterTexts = make([]string, len(f.wf.Triggers))
	}
	if f.filterTexts[ti] == "" {
		f.filterTexts[ti] = filterText(f.wf.Triggers[ti].Filters, nil)
	}
	return f.filterTexts[ti]
}

func opText(op string) string {
	switch op {
	case "", "eq":
		return "="
	case "neq":
		return "!="
	case "in":
		return "in"
	case "not_in":
		return "not in"
	}
	return op
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ",")
}

// appointmentTriggered reports whether a trigger lets a contact in while already in the workflow:
// appointment and invoice triggers allow multiple entries whatever the re-entry setting
// (ghl-research.md §3.1).
func appointmentTriggered(t *analyzer.Trigger) bool {
	if t == nil {
		return false
	}
	switch t.Type {
	case analyzer.TriggerAppointment, analyzer.TriggerCustomerAppointment, analyzer.TriggerInvoice:
		return true
	}
	return false
}

// enterRun enters the contact into f, applying re-entry and loop protection, and runs it until it
// waits or ends. t is the trigger that fired (nil for add-to-workflow).
func (e *engine) enterRun(f *flow, by string, t *analyzer.Trigger, h handled, why string) {
	wf := f.wf
	notEntered := func(format string, args ...any) {
		te := e.trace(&run{f: f}, "", TraceNotEntered, format, args...)
		_ = te
	}
	if f.locked {
		notEntered("Not entered (%s): GHL's loop protection has locked this workflow for the contact.", by)
		return
	}
	multi := appointmentTriggered(t)
	if !multi {
		if f.running > 0 {
			notEntered("Not entered (%s): the contact is still in this workflow, and a contact in a workflow cannot enter it again.", by)
			return
		}
		if f.entered && !wf.Settings.AllowReEntry {
			notEntered("Not entered (%s): the contact was in this workflow before and Allow Re-entry is off.", by)
			return
		}
	}
	if f.starts.add(e.now) {
		e.lock(f, nil, "", fmt.Sprintf("the workflow started %d times for this contact within %s", LoopLockCount, durText(LoopLockWindow)))
		notEntered("Not entered (%s): GHL's loop protection stopped the workflow.", by)
		return
	}
	if e.res.Stats.WorkflowsEntered >= e.lim.MaxWorkflowsEntered {
		e.err = &LimitError{Limit: LimitWorkflowsEntered, Max: int64(e.lim.MaxWorkflowsEntered), Got: int64(e.res.Stats.WorkflowsEntered + 1)}
		return
	}
	e.res.Stats.WorkflowsEntered++
	f.entered = true
	r := &run{f: f, idx: len(e.res.Workflows), step: -1, active: true, trigger: h.ev, trig: t, windowPassed: -1}
	if h.appt != "" && t != nil && (t.Type == analyzer.TriggerAppointment || t.Type == analyzer.TriggerCustomerAppointment) {
		r.appt = h.appt
	}
	e.active = append(e.active, r)
	f.running++
	e.res.Workflows = append(e.res.Workflows, WorkflowRun{WorkflowID: wf.ID, Workflow: wf.Name, EnteredAt: e.now, EnteredBy: by})
	if t != nil {
		e.note(r, "", TraceEnter, "Entered by "+by+": "+why+".")
	} else {
		e.note(r, "", TraceEnter, "Entered by "+by+".")
	}
	entry := wf.Root
	if t != nil && t.EntryStepID != "" {
		entry = t.EntryStepID
	}
	j, ok := f.steps[entry]
	if !ok {
		if entry != "" {
			e.trace(r, "", TraceExit, "The entry step %q does not exist; GHL runs nothing.", entry)
		} else {
			e.note(r, "", TraceExit, "The workflow has no steps.")
		}
		e.exit(r, ExitCompleted)
		return
	}
	r.step = j
	e.advance(r)
}

// enter is an add-to-workflow entry taken from the queue.
func (e *engine) enter(f *flow, by string, ev *Event, source string) {
	e.enterRun(f, by, nil, handled{ev: ev}, "")
}

// lock applies GHL's loop protection to a workflow: every run of it ends and it takes no one again.
func (e *engine) lock(f *flow, r *run, stepID, why string) {
	f.locked = true
	rule := loopRule(f, e)
	e.finding(FindingLoopProtection, SeverityError, &run{f: f}, stepID, rule,
		"GHL's loop protection stops %q for this contact: %s. Until support unlocks it, the workflow takes this contact no more.", f.wf.Name, why)
	for _, x := range e.runningNow() {
		if x.active && x.f == f {
			e.trace(x, stepID, TraceExit, "Stopped by GHL's loop protection: %s.", why)
			e.exit(x, ExitLoopProtection)
		}
	}
}

// loopRule names the rule that predicts a loop in f: a go-to loop inside it (WD002), or a cycle
// through other workflows (WD019).
func loopRule(f *flow, e *engine) string {
	for _, s := range f.wf.Steps {
		if s.Kind == analyzer.KindGoto {
			return "WD002"
		}
	}
	return "WD019"
}

// exit ends a run.
func (e *engine) exit(r *run, reason string) {
	if !r.active {
		return
	}
	r.active = false
	r.gen++
	r.wait = nil
	r.f.running--
	// Ended runs leave the active list in batches: removing each at once would shift the list
	// on every exit.
	e.ended++
	if e.ended > 32 && 2*e.ended > len(e.active) {
		e.active = slices.DeleteFunc(e.active, func(x *run) bool { return !x.active })
		e.ended = 0
	}
	wr := &e.res.Workflows[r.idx]
	at := e.now
	wr.LeftAt = &at
	wr.Exit = reason
	if r.step >= 0 && r.step < len(r.f.wf.Steps) {
		wr.StepID = r.f.wf.Steps[r.step].ID
	}
}

func durText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/time.Minute), "minute")
}

// plural is a count and its word: "1 day", "3 hours".
func plural(n int, word string) string {
	return strconv.Itoa(n) + " " + analyzer.Plural(n, word)
}
