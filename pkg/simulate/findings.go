package simulate

import (
	"fmt"
	"time"
)

// BurstLimit is the most messages a contact should receive in any 24 hours; a run that sends more
// proves a message burst. Five covers a speed-to-lead sequence on two channels plus a reminder, and
// is already more than the three calls a day Florida's and Oklahoma's laws allow (ghl-research.md
// §3.2).
const BurstLimit = 5

// burstWindow is the span BurstLimit counts over.
const burstWindow = 24 * time.Hour

// burstFindings reports each stretch of messages where more than BurstLimit fall within 24 hours,
// once, at the message where the count peaks.
func (e *engine) burstFindings() {
	msgs := e.res.Messages
	lo := 0
	peak, peakAt := 0, -1
	flush := func() {
		if peakAt < 0 {
			return
		}
		m := msgs[peakAt]
		saved := e.now
		e.now = m.At
		f := e.byID[m.WorkflowID]
		var r *run
		if f != nil {
			r = &run{f: f}
		}
		e.finding(FindingMessageBurst, SeverityWarning, r, m.StepID, "",
			"%d messages within 24 hours up to %s (more than %d): %s", peak, e.localText(m.At), BurstLimit, e.burstSources(peakAt, peak))
		e.now = saved
		peak, peakAt = 0, -1
	}
	for i := range msgs {
		for msgs[i].At.Sub(msgs[lo].At) >= burstWindow {
			lo++
		}
		n := i - lo + 1
		switch {
		case n > BurstLimit && n > peak:
			peak, peakAt = n, i
		case n <= BurstLimit:
			flush()
		}
	}
	flush()
}

// burstSources names the workflows that sent the n messages ending at index end.
func (e *engine) burstSources(end, n int) string {
	counts := map[string]int{}
	var order []string
	for _, m := range e.res.Messages[end-n+1 : end+1] {
		if counts[m.Workflow] == 0 {
			order = append(order, m.Workflow)
		}
		counts[m.Workflow]++
	}
	out := ""
	for i, w := range order {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d from %q", counts[w], w)
	}
	return out + "."
}
