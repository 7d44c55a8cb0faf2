package simulate

import (
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"

	// The engine resolves IANA zone names wherever it runs, so the zone database is embedded rather
	// than read from the machine (distroless images have none).
	_ "time/tzdata"
)

// GHL's loop protection (ghl-research.md §3.1, "Loop Lock"): a workflow that starts, or runs one
// of its actions, LoopLockCount times for one contact within LoopLockWindow is locked for that
// contact. The 51st start or execution is the one refused: GHL lets 50 laps through first.
const (
	LoopLockCount  = 50
	LoopLockWindow = 30 * time.Minute
)

// Run simulates req over the published workflows of loc with the default limits.
func Run(loc *analyzer.Location, req Request) (*Result, error) {
	return RunWithLimits(loc, req, Limits{})
}

// RunWithLimits simulates req over the published workflows of loc. Errors are *InputError for a
// request the engine cannot use and *LimitError for one over a limit; nothing else fails.
func RunWithLimits(loc *analyzer.Location, req Request, lim Limits) (*Result, error) {
	e, err := newEngine(loc, req, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	if err := e.run(); err != nil {
		return nil, err
	}
	return e.res, nil
}

// item kinds of the engine's queue.
const (
	itemEvent = iota
	itemResume
	itemEnter
)

// item is something scheduled on the virtual clock. Items at the same time run in the order they
// were scheduled (seq), which keeps every run deterministic.
type item struct {
	at time.Time
	// ns is at in Unix nanoseconds, for cheap comparisons in the heap.
	ns   int64
	seq  uint64
	kind int
	ev   *Event
	// source names the workflow and step whose write caused an internal event; empty for the
	// request's own events.
	source string
	r      *run
	gen    uint64
	// timeout marks the resume of an event wait whose timeout ran out.
	timeout bool
	f       *flow
	by      string
}

type itemHeap []*item

// Len, Less, Swap, Push and Pop make itemHeap a container/heap ordered by time, then by the order
// items were scheduled.
func (h itemHeap) Len() int { return len(h) }

// Less orders by time, then by scheduling order.
func (h itemHeap) Less(i, j int) bool {
	if h[i].ns != h[j].ns {
		return h[i].ns < h[j].ns
	}
	return h[i].seq < h[j].seq
}

// Swap swaps two items.
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

// Push adds an item.
func (h *itemHeap) Push(x any) { *h = append(*h, x.(*item)) }

// Pop removes the last item.
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// flow is a published workflow prepared for running.
type flow struct {
	wf    *analyzer.Workflow
	steps map[string]int
	out   [][]analyzer.Edge
	zone  *time.Location
	// zoneLabel names the zone the workflow's waits and windows are held in.
	zoneLabel string
	// contactZone is true when the workflow is set to the contact's zone.
	contactZone bool
	// entered is true once the contact has entered the workflow, for re-entry.
	entered bool
	// running counts the contact's runs of the workflow still going.
	running int
	locked  bool
	starts  ring
	execs   []ring
	// waitTexts and windowDesc cache descriptions the trace repeats.
	waitTexts  []string
	windowDesc string
	// texts caches, by step index, more sentences the trace repeats each time a run passes the
	// step (see stepTexts); triggerBy caches "trigger <type>" by trigger index.
	// clock converts instants to the wall clock of the workflow's zone, for its time windows.
	clock       zoneClock
	texts       []stepTexts
	triggerBy   []string
	filterTexts []string
	// goals are the indexes of the workflow's goal steps, which every event is checked against.
	goals []int
}

// ring keeps the last LoopLockCount times something happened (Unix nanoseconds), for loop
// protection.
type ring struct {
	times []int64
	next  int
}

// add records t and reports whether it is over GHL's loop protection: LoopLockCount earlier
// occurrences already fall within LoopLockWindow before t.
func (g *ring) add(t time.Time) bool {
	ns := t.UnixNano()
	if len(g.times) < LoopLockCount {
		if g.times == nil {
			g.times = make([]int64, 0, LoopLockCount)
		}
		g.times = append(g.times, ns)
		return false
	}
	if ns-g.times[g.next] < int64(LoopLockWindow) {
		return true
	}
	g.times[g.next] = ns
	g.next = (g.next + 1) % LoopLockCount
	return false
}

// run is one entry of the contact into a workflow.
type run struct {
	f      *flow
	idx    int
	step   int
	gen    uint64
	active bool
	// wait is the wait the run is held at, nil when it is not waiting; it points at waitBuf, so
	// a wait costs no allocation.
	wait    *waitState
	waitBuf waitState
	// appt is the appointment whose event started the run, "" when another trigger did.
	appt string
	// eventStart is the date set by a Set Event Start Date step.
	eventStart time.Time
	// sent is true once the run has sent the contact a message (stop on response needs one).
	sent bool
	// replied is true once the contact has replied since the run started; lastReply is the text.
	replied   bool
	lastReply string
	// trigger is the event that started the run; trig the trigger it matched, nil for
	// add-to-workflow.
	trigger *Event
	trig    *analyzer.Trigger
	// windowed is true when a time window held the run since its last wait, for rule links.
	windowed bool
	// windowZone is true when the window that held it was in the contact's zone.
	windowZone bool
	// windowPassed is the step a window hold was released for, -1 when none.
	windowPassed int
	// fromWait is true when a wait's clock (not the contact's own action) last released the run.
	fromWait bool
	// goalMet is true once a goal pulled the run forward.
	goalMet bool
	// waitAppt is the appointment the run's last appointment wait waited for; beforeAppt is true
	// when that wait ended before the appointment (a reminder).
	waitAppt   string
	beforeAppt bool
}

// hold makes w the wait r is held at and returns it.
func (r *run) hold(w waitState) *waitState {
	r.waitBuf = w
	r.wait = &r.waitBuf
	return r.wait
}

// waitState is a wait a run is held at.
type waitState struct {
	step int
	mode string
	// until is when the wait resumes by itself; zero when only an event ends it.
	until time.Time
	// timeout is true when until is an event wait's timeout rather than its natural end.
	timeout bool
	// hold is true for a time window holding a message step, not a wait step.
	hold bool
}

// state is the contact's changing state.
type state struct {
	fields map[string]string
	tags   []string
	dnd    map[string]bool
	appts  []Appointment
	// apptIdx indexes appts by id.
	apptIdx map[string]int
	opps    []Opportunity
	// cancelledAt records when each appointment was cancelled.
	cancelledAt map[string]time.Time
	// optOuts are the STOP replies received, by channel, with when.
	optOuts map[string]time.Time
	// dndClearedBy names the workflow that turned DND off for a channel after an opt-out.
	dndClearedBy map[string]string
}

// engine is one simulation.
type engine struct {
	loc   *analyzer.Location
	req   Request
	lim   Limits
	flows []*flow
	byID  map[string]*flow

	account        *time.Location
	accountDefault bool
	zone           *time.Location

	now   time.Time
	end   time.Time
	seq   uint64
	queue itemHeap
	// free holds processed items for reuse.
	free []*item
	c    state
	// active are the runs still going, in order of entry, and up to ended runs that have stopped
	// since the list was last compacted (skip those whose active is false).
	active []*run
	ended  int
	res    *Result
	err    error

	assumed map[string]bool
	// customFields maps custom field ids to keys, for writes and conditions that name fields by id.
	customFields map[string]string
	customValues map[string]string
	forms        map[string]string
	// traceRecs is the trace while the run goes on.
	traceRecs []traceRec
	// clock converts instants to the contact's wall clock (see zoneClock).
	clock zoneClock
	// localAt and localStr cache the last local time formatted.
	localAt  time.Time
	localStr string
	// waiters lists, by the wait modes in waitLists, the runs that may be waiting on a wait an
	// event can end or move (see listWaiter).
	waiters [len(waitLists)][]*run
	// hasGoals is true when some workflow has a goal step; without one, events skip looking for
	// runs a goal could move.
	hasGoals bool
	// freeAttrs holds attribute slices of events already handled, for reuse.
	freeAttrs [][]attr
	// buf is scratch space for text built on the hot paths, copied out into a string each time.
	buf []byte
	// found holds the findings already reported, by kind, step and workflow.
	found map[findKey]bool
	// optOutNoted records the channels already reported as still used after an opt-out elsewhere.
	optOutNoted map[string]bool
}

func newEngine(loc *analyzer.Location, req Request, lim Limits) (*engine, error) {
	if loc == nil {
		loc = &analyzer.Location{}
	}
	horizon, err := ParseHorizon(req.Horizon)
	if err != nil {
		return nil, &InputError{Field: "horizon", Message: err.Error()}
	}
	if horizon > lim.MaxHorizon {
		return nil, &LimitError{Limit: LimitHorizon, Max: int64(lim.MaxHorizon / time.Minute), Got: int64(horizon / time.Minute)}
	}
	if n := 1 + len(req.Events); n > lim.MaxEvents {
		return nil, &LimitError{Limit: LimitEvents, Max: int64(lim.MaxEvents), Got: int64(n)}
	}
	e := &engine{loc: loc, req: req, lim: lim, byID: map[string]*flow{}, assumed: map[string]bool{}, found: map[findKey]bool{}, optOutNoted: map[string]bool{}}
	e.account = time.UTC
	e.accountDefault = req.AccountTimezone == ""
	if req.AccountTimezone != "" {
		z, err := loadZone(req.AccountTimezone)
		if err != nil {
			return nil, &InputError{Field: "accountTimezone", Message: err.Error()}
		}
		e.account = z
	}
	e.zone = e.account
	if req.Contact.Timezone != "" {
		z, err := loadZone(req.Contact.Timezone)
		if err != nil {
			return nil, &InputError{Field: "contact.timezone", Message: err.Error()}
		}
		e.zone = z
	}
	if err := validateEvent(&req.Start, -1); err != nil {
		return nil, err
	}
	for i := range req.Events {
		if err := validateEvent(&req.Events[i], i); err != nil {
			return nil, err
		}
		if req.Events[i].At.Before(req.Start.At) {
			return nil, inputErrorf(eventField(i)+".at", "%s is before start (%s)", req.Events[i].At.Format(time.RFC3339), req.Start.At.Format(time.RFC3339))
		}
	}
	for i, a := range req.Contact.Appointments {
		if a.Start.IsZero() || !validTime(a.Start) {
			return nil, inputErrorf(fmt.Sprintf("contact.appointments[%d].start", i), "is required, between the years %d and %d", minYear, maxYear)
		}
	}
	e.clock = newZoneClock(e.zone)
	e.now = req.Start.At.UTC()
	e.end = e.now.Add(horizon)
	e.prepareContext()
	e.prepareFlows()
	e.prepareContact()
	e.traceRecs = make([]traceRec, 0, traceEstimate(len(req.Events)))
	e.res = &Result{
		LocationID:  loc.ID,
		ContactID:   req.Contact.ID,
		Start:       e.now,
		End:         e.end,
		Timezone:    e.zone.String(),
		Trace:       []TraceEntry{},
		Messages:    make([]Message, 0, min(4+4*len(req.Events), 1<<14)),
		Workflows:   []WorkflowRun{},
		Assumptions: []Assumption{},
		Findings:    []Finding{},
	}
	return e, nil
}

// traceEstimate is the trace capacity reserved for a request with n later events: about what
// busy locations produce, so a long trace grows at most once or twice.
func traceEstimate(n int) int {
	return min(16+14*n, 1<<16)
}

// loadZone loads an IANA zone, refusing "Local", whose meaning depends on the machine.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return z, nil
}

// Virtual times must fall within these years: the engine keeps times as Unix nanoseconds, which
// hold the years 1678 to 2262, and every time a simulation reaches (a year of horizon after the
// last event included) must fit, and be written as RFC 3339.
const (
	minYear = 1900
	maxYear = 2200
)

func validTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= minYear && y <= maxYear
}

// eventField names the request's field for its start event (i < 0) or its events[i].
func eventField(i int) string {
	if i < 0 {
		return "start"
	}
	return fmt.Sprintf("events[%d]", i)
}

// validateEvent checks the request's start event (i < 0) or its events[i]. The field's name is
// written only when the event fails: writing it for each of thousands of valid events cost two
// allocations apiece.
func validateEvent(ev *Event, i int) error {
	if ev.At.IsZero() {
		return inputErrorf(eventField(i)+".at", "is required")
	}
	if !validTime(ev.At) {
		return inputErrorf(eventField(i)+".at", "must be between the years %d and %d", minYear, maxYear)
	}
	if ev.Appointment != nil && !ev.Appointment.Start.IsZero() && !validTime(ev.Appointment.Start) {
		return inputErrorf(eventField(i)+".appointment.start", "must be between the years %d and %d", minYear, maxYear)
	}
	if !slices.Contains(EventTypes, ev.Type) {
		return inputErrorf(eventField(i)+".type", "unknown event type %q (want one of %s)", ev.Type, strings.Join(EventTypes, ", "))
	}
	switch ev.Type {
	case EventAppointmentBooked, EventAppointmentRescheduled:
		if ev.Appointment == nil || ev.Appointment.Start.IsZero() {
			return inputErrorf(eventField(i)+".appointment.start", "is required for %s", ev.Type)
		}
	case EventTrigger:
		if ev.Trigger == "" {
			return inputErrorf(eventField(i)+".trigger", "is required for %s", ev.Type)
		}
	}
	return nil
}

func (e *engine) prepareContext() {
	e.customFields = map[string]string{}
	e.customValues = map[string]string{}
	e.forms = map[string]string{}
	ctx := e.loc.Context
	if ctx == nil {
		return
	}
	for _, f := range ctx.CustomFields {
		key := strings.TrimPrefix(f.Key, "contact.")
		if key == "" {
			continue
		}
		if f.ID != "" {
			e.customFields[f.ID] = key
		}
	}
	for _, v := range ctx.CustomValues {
		key := strings.TrimPrefix(strings.TrimSpace(v.Key), "custom_values.")
		if key != "" {
			e.customValues[key] = v.Value
		}
	}
	for _, list := range [][]analyzer.Object{ctx.Forms, ctx.Surveys} {
		for _, o := range list {
			if o.ID != "" && o.Name != "" {
				e.forms[strings.ToLower(o.ID)] = strings.ToLower(o.Name)
				e.forms[strings.ToLower(o.Name)] = strings.ToLower(o.ID)
			}
		}
	}
}

// prepareFlows indexes the published workflows. A workflow id given twice keeps its first copy, as
// the analyzer does.
func (e *engine) prepareFlows() {
	for i := range e.loc.Workflows {
		wf := &e.loc.Workflows[i]
		if wf.Status != analyzer.StatusPublished {
			continue
		}
		if _, dup := e.byID[wf.ID]; dup {
			continue
		}
		f := &flow{wf: wf, steps: make(map[string]int, len(wf.Steps)), out: make([][]analyzer.Edge, len(wf.Steps))}
		for j := range wf.Steps {
			if _, dup := f.steps[wf.Steps[j].ID]; !dup {
				f.steps[wf.Steps[j].ID] = j
			}
		}
		for _, ed := range wf.Edges {
			if j, ok := f.steps[ed.From]; ok {
				f.out[j] = append(f.out[j], ed)
			}
		}
		f.execs = make([]ring, len(wf.Steps))
		for j := range wf.Steps {
			if wf.Steps[j].Kind == analyzer.KindGoal && wf.Steps[j].Goal != nil {
				f.goals = append(f.goals, j)
				e.hasGoals = true
			}
		}
		switch tz := wf.Settings.Timezone; {
		case tz == "contact":
			f.zone, f.zoneLabel, f.contactZone = e.zone, "the contact's zone", true
		case tz == "" || tz == "account":
			f.zone, f.zoneLabel = e.account, "the account's zone"
		default:
			if z, err := loadZone(tz); err == nil {
				f.zone, f.zoneLabel = z, tz
			} else {
				f.zone, f.zoneLabel = e.account, "the account's zone"
			}
		}
		e.flows = append(e.flows, f)
		e.byID[wf.ID] = f
	}
}

func (e *engine) prepareContact() {
	c := &e.c
	c.fields = map[string]string{}
	// Keys are read in sorted order so "first_name" wins over "contact.first_name" whatever the
	// map's order.
	keys := make([]string, 0, len(e.req.Contact.Fields))
	for k := range e.req.Contact.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.fields[strings.TrimPrefix(k, "contact.")] = e.req.Contact.Fields[k]
	}
	for _, t := range e.req.Contact.Tags {
		if !c.hasTag(t) {
			c.tags = append(c.tags, t)
		}
	}
	c.dnd = map[string]bool{}
	c.optOuts = map[string]time.Time{}
	for _, ch := range e.req.Contact.DND {
		// A channel with DND on at the start is one the contact opted out of: a workflow that turns
		// it off and then sends is the same harm as after a STOP.
		c.dnd[strings.ToLower(ch)] = true
		c.optOuts[strings.ToLower(ch)] = e.now
	}
	for i, a := range e.req.Contact.Appointments {
		if a.ID == "" {
			a.ID = fmt.Sprintf("appt-%d", i+1)
		}
		a.Status = cmpOr(a.Status, AppointmentConfirmed)
		a.Start = a.Start.UTC()
		c.addAppt(a)
	}
	for _, o := range e.req.Contact.Opportunities {
		o.Status = cmpOr(o.Status, "open")
		c.opps = append(c.opps, o)
	}
	c.cancelledAt = map[string]time.Time{}
	c.dndClearedBy = map[string]string{}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *state) hasTag(t string) bool {
	for _, have := range c.tags {
		if strings.EqualFold(have, t) {
			return true
		}
	}
	return false
}

func (c *state) dndOn(channel string) bool {
	return c.dnd["all"] || c.dnd[channel]
}

// runningNow returns a copy of the active runs, for loops whose steps may end runs.
func (e *engine) runningNow() []*run {
	return e.runningWhere(func(*run) bool { return true })
}

// runningWhere returns a copy of the active runs that keep says to, in order of entry. Most events
// concern few of the runs, so only those are copied.
func (e *engine) runningWhere(keep func(*run) bool) []*run {
	var out []*run
	for _, r := range e.active {
		if r.active && keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// newItem returns an item from the free list, or a new one.
func (e *engine) newItem() *item {
	if n := len(e.free); n > 0 {
		it := e.free[n-1]
		e.free = e.free[:n-1]
		return it
	}
	return &item{}
}

// push schedules an item (a copy of it, from the free list).
func (e *engine) push(v item) {
	it := e.newItem()
	*it = v
	e.seq++
	it.seq = e.seq
	it.ns = it.at.UnixNano()
	heap.Push(&e.queue, it)
}

// run processes the request's events and the queue, in time order, until both are done or the
// horizon is reached. The request's events are already in order, so they are merged with the
// queue rather than pushed onto it; at the same moment a request event goes first, as if it had
// been queued before anything the workflows schedule.
func (e *engine) run() error {
	evs := make([]*Event, 0, 1+len(e.req.Events))
	start := e.req.Start
	evs = append(evs, &start)
	for i := range e.req.Events {
		evs = append(evs, &e.req.Events[i])
	}
	slices.SortStableFunc(evs, func(a, b *Event) int { return a.At.Compare(b.At) })
	e.res.Stats.Events = len(evs)
	next := 0
	external := &item{kind: itemEvent}
	for e.err == nil {
		var it *item
		switch {
		case next < len(evs) && (e.queue.Len() == 0 || !evs[next].At.After(e.queue[0].at)):
			external.at, external.ev = evs[next].At.UTC(), evs[next]
			it = external
			next++
		case e.queue.Len() > 0:
			it = heap.Pop(&e.queue).(*item)
		}
		if it == nil || it.at.After(e.end) {
			break
		}
		e.now = it.at
		switch it.kind {
		case itemEvent:
			e.handleEvent(it.ev, it.source)
		case itemResume:
			if it.r.active && it.r.gen == it.gen {
				e.resume(it.r, it.timeout)
			}
		case itemEnter:
			e.enter(it.f, it.by, it.ev, it.source)
		}
		if it != external {
			*it = item{}
			e.free = append(e.free, it)
		}
	}
	if e.err != nil {
		return e.err
	}
	e.finish()
	return nil
}

// finish ends the runs still going at the horizon and adds the findings that need the whole run.
func (e *engine) finish() {
	e.now = e.end
	for _, r := range e.active {
		if !r.active {
			continue
		}
		wr := &e.res.Workflows[r.idx]
		wr.Exit = ExitHorizon
		wr.StepID = r.f.wf.Steps[r.step].ID
		if w := r.wait; w != nil && w.until.IsZero() && isEventWait(w.mode) {
			s := &r.f.wf.Steps[r.step]
			e.finding(FindingParkedForever, SeverityError, r, s.ID, "WD008",
				"The contact waits at %q (%s) since %s with no timeout: nothing in the simulation releases it, so it would wait forever.",
				stepName(s), waitLabel(w.mode), e.localText(e.res.Workflows[r.idx].EnteredAt))
		}
	}
	e.burstFindings()
	slices.SortStableFunc(e.res.Findings, func(a, b Finding) int { return a.At.Compare(b.At) })
	e.expandTrace()
	e.final()
}

func (e *engine) final() {
	c := &e.c
	st := ContactState{Tags: append([]string{}, c.tags...), Fields: map[string]string{}, DND: []string{}, Appointments: []Appointment{}, Opportunities: []Opportunity{}}
	for k, v := range c.fields {
		st.Fields[k] = v
	}
	for ch, on := range c.dnd {
		if on {
			st.DND = append(st.DND, ch)
		}
	}
	slices.Sort(st.DND)
	st.Appointments = append(st.Appointments, c.appts...)
	st.Opportunities = append(st.Opportunities, c.opps...)
	e.res.Final = st
}

func isEventWait(mode string) bool {
	switch mode {
	case analyzer.WaitReply, analyzer.WaitCondition, analyzer.WaitTriggerLink, analyzer.WaitEmailEvent:
		return true
	}
	return false
}

// local formats t in the contact's zone. Most trace entries share their moment with the one
// before, so the last answer is kept.
func (e *engine) local(t time.Time) string {
	if !t.Equal(e.localAt) || e.localStr == "" {
		e.buf = e.clock.appendRFC3339(e.buf[:0], t)
		e.localAt, e.localStr = t, string(e.buf)
	}
	return e.localStr
}

// localText formats t for sentences: "Mon 2 Mar 21:40". It is written out by hand because the
// trace asks for it at every wait.
func (e *engine) localText(t time.Time) string {
	e.buf = e.appendLocalText(e.buf[:0], t)
	return string(e.buf)
}

// appendLocalText appends t as localText writes it, so a sentence can be built in one buffer.
func (e *engine) appendLocalText(b []byte, t time.Time) []byte {
	lt := e.clock.wall(t)
	_, mo, d := lt.Date()
	h, m, _ := lt.Clock()
	b = append(b, lt.Weekday().String()[:3]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, ' ')
	b = append(b, mo.String()[:3]...)
	return append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
}

// traceRec is a trace entry as the engine keeps it while it runs: about a third of a TraceEntry,
// so a long run allocates and scans less; finish expands the records into the result's trace.
type traceRec struct {
	ns     int64
	f      *flow
	stepID string
	kind   string
	detail string
	extra  *traceExtra
}

// traceExtra holds the parts few entries have.
type traceExtra struct {
	branch     string
	conditions []ConditionValue
	assumption bool
}

// decide records the branch an entry took and the condition values that chose it.
func (t *traceRec) decide(branch string, conditions []ConditionValue) {
	if t.extra == nil {
		t.extra = &traceExtra{}
	}
	t.extra.branch, t.extra.conditions = branch, conditions
}

// trace records one entry whose detail is written with fmt.
func (e *engine) trace(r *run, stepID, kind, format string, args ...any) *traceRec {
	return e.note(r, stepID, kind, fmt.Sprintf(format, args...))
}

// note records one entry with its detail written out; the hot paths build their own strings and
// skip fmt.
func (e *engine) note(r *run, stepID, kind, detail string) *traceRec {
	rec := traceRec{ns: e.now.UnixNano(), stepID: stepID, kind: kind, detail: detail}
	if r != nil {
		rec.f = r.f
	}
	e.traceRecs = append(e.traceRecs, rec)
	return &e.traceRecs[len(e.traceRecs)-1]
}

// expandTrace writes the records out as the result's trace.
//
// The local times of all entries are written into one strings.Builder, sized for them up front, and
// the entries share slices of its string: one allocation instead of one per moment, for the
// thousands of entries of a busy run. (A Builder's String never copies, and the text written before
// stays valid as more is appended, so each slice can be taken as soon as its text is written.)
func (e *engine) expandTrace() {
	recs := e.traceRecs
	out := make([]TraceEntry, len(recs))
	moments := 0
	for i := range recs {
		if i == 0 || recs[i].ns != recs[i-1].ns {
			moments++
		}
	}
	var locals strings.Builder
	locals.Grow(moments * len("2006-01-02T15:04:05-07:00"))
	local := ""
	for i := range recs {
		rec := &recs[i]
		// Entries at the moment of the one before share its text.
		if i == 0 || rec.ns != recs[i-1].ns {
			from := locals.Len()
			e.buf = e.clock.appendRFC3339(e.buf[:0], time.Unix(0, rec.ns).UTC())
			locals.Write(e.buf)
			local = locals.String()[from:]
		}
		te := &out[i]
		te.Seq, te.At, te.Local, te.StepID, te.Kind, te.Detail = i+1, time.Unix(0, rec.ns).UTC(), local, rec.stepID, rec.kind, rec.detail
		if rec.f != nil {
			te.WorkflowID, te.Workflow = rec.f.wf.ID, rec.f.wf.Name
		}
		if x := rec.extra; x != nil {
			te.Branch, te.Conditions, te.Assumption = x.branch, x.conditions, x.assumption
		}
	}
	e.res.Trace = out
	e.traceRecs = nil
}

// assume records an assumption (once per kind, workflow and step, with a trace entry each time).
func (e *engine) assume(r *run, stepID, kind, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	te := e.note(r, stepID, TraceAssume, detail)
	if te.extra == nil {
		te.extra = &traceExtra{}
	}
	te.extra.assumption = true
	wfID := ""
	if r != nil {
		wfID = r.f.wf.ID
	}
	key := kind + "\x00" + wfID + "\x00" + stepID
	if e.assumed[key] {
		return
	}
	e.assumed[key] = true
	e.res.Assumptions = append(e.res.Assumptions, Assumption{At: e.now, WorkflowID: wfID, StepID: stepID, Kind: kind, Detail: detail})
}

// finding records a finding the run proves. A problem at a workflow's step is reported once, the
// first time the run proves it, so a loop does not repeat it fifty times.
func (e *engine) finding(kind, severity string, r *run, stepID, rule, format string, args ...any) {
	if !e.fresh(kind, r, stepID) {
		return
	}
	e.found[findKey{kind, wfID(r), stepID}] = true
	f := Finding{Kind: kind, Severity: severity, At: e.now, Local: e.local(e.now), StepID: stepID, RuleID: rule, Detail: fmt.Sprintf(format, args...)}
	if r != nil {
		f.WorkflowID = r.f.wf.ID
	}
	e.res.Findings = append(e.res.Findings, f)
}

// findKey names a finding for deduplication.
type findKey struct{ kind, workflow, step string }

// fresh reports whether a finding of kind at the step has not been reported yet; callers check it
// before they spend time describing the finding.
func (e *engine) fresh(kind string, r *run, stepID string) bool {
	return !e.found[findKey{kind, wfID(r), stepID}]
}

func wfID(r *run) string {
	if r == nil {
		return ""
	}
	return r.f.wf.ID
}

// accountZoneUsed records, once, that the account's zone was needed and not given.
func (e *engine) accountZoneUsed(r *run) {
	if e.accountDefault {
		e.accountDefault = false
		e.assume(r, "", AssumeAccountZone, "The account's time zone was not given; UTC is used for it.")
	}
}

func stepName(s *analyzer.Step) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}
