package analyzer

// Path facts: what happened to a contact on the way to a step. Both analyses here run once over a
// workflow's graph, in time linear in its steps plus edges, so rules can ask about every step without
// walking the graph per step.

// timingSource says what last released the contact before it reached a step, which decides when the
// step's action happens in the contact's day.
type timingSource uint8

const (
	// fromTrigger: nothing paused the contact since the trigger fired, so the step runs when the
	// triggering event happened (a form, a reply, a booking), at a moment the contact chose.
	fromTrigger timingSource = iota
	// fromFixedWait: a time delay, a date wait, or the timeout exit of an event wait released the
	// contact, at a moment nobody chose, 3 am included.
	fromFixedWait
	// fromBeforeEvent: an appointment- or event-relative wait timed at or before the appointment.
	fromBeforeEvent
	// fromAfterEvent: an appointment- or event-relative wait timed after the appointment.
	fromAfterEvent
	// fromEventWait: the contact's own action (a reply, a link click, an email event), a condition
	// becoming true, a recurring schedule, or a wait of unknown mode released the contact.
	fromEventWait
	timingSources
)

// timingBits is the number of (source, windowed) combinations a timing set can hold.
const timingBits = 2 * int(timingSources)

// timingIndex is the position in a timing set of a source, held by a time window or not.
func timingIndex(src timingSource, windowed bool) int {
	b := int(src) * 2
	if windowed {
		b++
	}
	return b
}

// timingBit is the bit of a timing set for a source, held by a time window or not.
func timingBit(src timingSource, windowed bool) uint16 { return 1 << timingIndex(src, windowed) }

// timing holds, for each step of a workflow, every way a contact can arrive at it: which kind of
// moment last released the contact (timingSource) and whether a time window held the contact after
// that release. A step reached by several paths holds the union of what each path brings, so a rule
// that looks for a bad combination sees the worst case: one bad path is enough to report.
type timing struct {
	// at is the set of timingBit values each step can be reached with.
	at []uint16
	// via names, per step and per bit, the index of the wait step that set the source on one path
	// (the first path found, in a deterministic order); -1 when the source is the trigger.
	via [][timingBits]int32
}

// newTiming propagates timing sets from the workflow's entries along every edge (go-to included)
// until nothing changes. Sets only grow and have timingBits bits, so each step is revisited at most
// timingBits times: the cost stays linear in steps plus edges, cycles included.
func newTiming(g *graph) *timing {
	n := len(g.wf.Steps)
	t := &timing{at: make([]uint16, n), via: make([][timingBits]int32, n)}
	queue := make([]int, 0, n)
	queued := make([]bool, n)
	arrive := func(j int, bits uint16, via *[timingBits]int32) {
		added := bits &^ t.at[j]
		if added == 0 {
			return
		}
		for b := range timingBits {
			if added&(1<<b) != 0 {
				t.via[j][b] = via[b]
			}
		}
		t.at[j] |= added
		if !queued[j] {
			queued[j] = true
			queue = append(queue, j)
		}
	}
	var start [timingBits]int32
	for b := range start {
		start[b] = -1
	}
	for _, e := range g.entries {
		arrive(e, timingBit(fromTrigger, false), &start)
	}
	for head := 0; head < len(queue); head++ {
		i := queue[head]
		queued[i] = false
		s := &g.wf.Steps[i]
		for _, ei := range g.out[i] {
			e := g.wf.Edges[ei]
			j, ok := g.pos[e.To]
			if !ok {
				continue
			}
			bits, via := t.departure(s, i, e)
			arrive(j, bits, &via)
		}
	}
	return t
}

// departure is the timing set a contact leaves step i with along edge e.
func (t *timing) departure(s *Step, i int, e Edge) (uint16, [timingBits]int32) {
	if s.Kind != KindWait {
		return t.at[i], t.via[i]
	}
	var via [timingBits]int32
	src, releases := waitRelease(s.Wait, e)
	if releases {
		windowed := s.Wait != nil && s.Wait.Window != nil
		bit := timingBit(src, windowed)
		for b := range via {
			via[b] = int32(i)
		}
		return bit, via
	}
	if s.Wait == nil || s.Wait.Window == nil {
		return t.at[i], t.via[i]
	}
	// A wait that does not pause by itself but carries a window holds the contact until the window
	// opens: whatever timed the contact before still does, now inside the window.
	var bits uint16
	for src := range timingSources {
		plain, held := timingIndex(src, false), timingIndex(src, true)
		switch {
		case t.at[i]&(1<<plain) != 0:
			bits |= 1 << held
			via[held] = t.via[i][plain]
		case t.at[i]&(1<<held) != 0:
			bits |= 1 << held
			via[held] = t.via[i][held]
		}
	}
	return bits, via
}

// waitRelease says what kind of moment releases a contact from wait w along edge e, and whether the
// wait releases by itself at all (a time wait of zero does not pause).
func waitRelease(w *Wait, e Edge) (timingSource, bool) {
	if w == nil {
		return fromEventWait, true
	}
	switch w.Mode {
	case WaitTime:
		return fromFixedWait, w.Duration.Minutes() > 0
	case WaitDateTime:
		return fromFixedWait, true
	case WaitAppointment, WaitEventTime:
		if w.Offset != nil && w.Offset.When == "after" {
			return fromAfterEvent, true
		}
		// "before", no offset, or a zero offset: the moment of the appointment or earlier.
		return fromBeforeEvent, true
	case WaitReply, WaitCondition, WaitTriggerLink, WaitEmailEvent:
		if e.Kind == EdgeTimeout {
			return fromFixedWait, true
		}
		return fromEventWait, true
	default:
		return fromEventWait, true
	}
}

// has reports whether step i can be reached with source src, windowed or not as asked.
func (t *timing) has(i int, src timingSource, windowed bool) bool {
	return t.at[i]&timingBit(src, windowed) != 0
}

// hasSource reports whether step i can be reached with source src, windowed or not.
func (t *timing) hasSource(i int, src timingSource) bool {
	return t.has(i, src, false) || t.has(i, src, true)
}

// windowed reports whether a time window holds the contact on some path to step i.
func (t *timing) windowed(i int) bool {
	for src := range timingSources {
		if t.has(i, src, true) {
			return true
		}
	}
	return false
}

// viaWait returns the index of the wait step that set source src (windowed as asked) on a path to
// step i, or -1 for the trigger or when no path brings it.
func (t *timing) viaWait(i int, src timingSource, windowed bool) int {
	if !t.has(i, src, windowed) {
		return -1
	}
	return int(t.via[i][timingIndex(src, windowed)])
}

// reachStopping marks the steps reachable from the workflow's entries when every step for which stop
// returns true ends the path: such steps are marked but not walked through. So a step is marked when
// some path reaches it on which no stop step comes before it. One walk, linear in steps plus edges.
func reachStopping(g *graph, stop func(*Step) bool) []bool {
	mark := make([]bool, len(g.wf.Steps))
	stack := make([]int, 0, len(g.entries))
	for _, e := range g.entries {
		if !mark[e] {
			mark[e] = true
			stack = append(stack, e)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if stop(&g.wf.Steps[i]) {
			continue
		}
		for _, ei := range g.out[i] {
			if j, ok := g.pos[g.wf.Edges[ei].To]; ok && !mark[j] {
				mark[j] = true
				stack = append(stack, j)
			}
		}
	}
	return mark
}
