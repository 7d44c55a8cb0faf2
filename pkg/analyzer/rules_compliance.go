package analyzer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func init() { register(wd027, wd028, wd029, wd030, wd031, wd032, wd033, wd034) }

// isVoiceOrText reports whether a message channel is one the TCPA's calling-hours rule covers: SMS,
// calls and voicemail drops (which the FCC treats as calls).
func isVoiceOrText(channel string) bool {
	return channel == ChannelSMS || channel == ChannelCall || channel == ChannelVoicemail
}

// windowText writes a time window for a message: "09:00-17:00".
func windowText(w *TimeWindow) string { return w.Start + "-" + w.End }

// waitLabel names the wait at index i for a message, or says the trigger when i < 0.
func waitLabel(g *graph, i int) string {
	if i < 0 {
		return "the trigger"
	}
	return "wait " + stepLabel(&g.wf.Steps[i])
}

var wd027 = &rule{
	doc: RuleDoc{
		ID: "WD027", Category: "compliance", Severity: SeverityError,
		Title:   "Delayed SMS or call without a time window",
		Summary: "An SMS or call that runs after a fixed delay or date wait with no time window can go out at night (info for email).",
		Why: "A time delay or date wait releases the contact whenever it ends, counted from whenever they entered: a contact " +
			"who filled in a form at 11 pm gets the \"1 day later\" text at 11 pm. The TCPA allows automated texts and calls " +
			"only between 8:00 and 21:00 in the recipient's time, with $500-$1,500 statutory damages per message. Appointment- " +
			"and event-relative waits are left out on purpose: the appointment sets their timing, and a window would hold " +
			"the reminder (WD030).",
		Fix: "Add a time window (for example Monday-Friday 09:00-19:00) to the wait before the SMS or call, or a workflow-wide " +
			"window, and judge it in the contact's time zone.",
		Example: "SMS \"Day 2 follow-up\" runs after wait \"Wait 1 day\", which has no time window.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkUnwindowedDelays,
}

func checkUnwindowedDelays(p *pass) {
	if p.wf.Settings.TimeWindow != nil {
		return
	}
	var t *timing
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindMessage || s.Message == nil {
			continue
		}
		severity := SeverityError
		switch {
		case isVoiceOrText(s.Message.Channel):
		case s.Message.Channel == ChannelEmail:
			severity = SeverityInfo
		default:
			continue
		}
		if t == nil {
			t = p.g.timings()
		}
		// A message reached by several paths is judged by its worst one: one path from a fixed wait
		// without a window is enough, and the message names that path's wait.
		if !t.has(i, fromFixedWait, false) {
			continue
		}
		w := t.viaWait(i, fromFixedWait, false)
		p.reportAt(severity, s.ID, "%s runs after %s, which has no time window, so it can go out at 3 am%s",
			stepTitle(s), releaseText(p.g, w), quietHoursNote(s.Message.Channel))
	}
}

// releaseText describes how the wait at index w releases a contact onto a fixed-time path.
func releaseText(g *graph, w int) string {
	if w < 0 {
		return "the trigger"
	}
	s := &g.wf.Steps[w]
	if s.Wait != nil {
		switch s.Wait.Mode {
		case WaitReply, WaitCondition, WaitTriggerLink, WaitEmailEvent:
			return "the timeout of " + waitLabel(g, w)
		}
	}
	return waitLabel(g, w)
}

func quietHoursNote(channel string) string {
	if isVoiceOrText(channel) {
		return " (the TCPA allows 8:00-21:00 in the recipient's time)"
	}
	return ""
}

var wd028 = &rule{
	doc: RuleDoc{
		ID: "WD028", Category: "compliance", Severity: SeverityError,
		Title:   "Time window outside calling hours",
		Summary: "A time window starts before 08:00 or ends after 21:00 (warning when it ends after 20:00: Florida, Oklahoma, Washington).",
		Why: "A time window is what keeps automated texts and calls inside legal hours. The TCPA allows 8:00-21:00 in the " +
			"recipient's time; Florida's FTSA, Oklahoma's OTSA and Washington's HB 1497 allow only 8:00-20:00. A window that " +
			"opens at 7:00, closes at 22:00 or runs across midnight lets messages out when the law does not.",
		Fix: "Set the window to start at 08:00 or later and end by 21:00, or by 20:00 if you text contacts in Florida, Oklahoma " +
			"or Washington (a 09:00-19:00 window is safe everywhere).",
		Example: "Wait \"Next morning\" has a time window of 07:00-22:00.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkWindowHours,
}

// Calling-hour limits, in minutes after midnight.
const (
	callingStart     = 8 * 60
	callingEnd       = 21 * 60
	callingEndStrict = 20 * 60
)

func checkWindowHours(p *pass) {
	check := func(stepID, where string, w *TimeWindow) {
		start, okStart := parseClock(w.Start)
		end, okEnd := parseClock(w.End)
		if !okStart || !okEnd {
			p.notAssessed(fmt.Sprintf("the time window of %s (%q-%q) is not in HH:MM form", where, w.Start, w.End))
			return
		}
		switch {
		case start >= end:
			p.reportAt(SeverityError, stepID, "The time window of %s, %s, runs across midnight, so messages can go out at night (allowed: 08:00-21:00 recipient time)", where, windowText(w))
		case start < callingStart || end > callingEnd:
			p.reportAt(SeverityError, stepID, "The time window of %s, %s, lets messages out %s (allowed: 08:00-21:00 recipient time)", where, windowText(w), outsideText(start, end))
		case end > callingEndStrict:
			p.reportAt(SeverityWarning, stepID, "The time window of %s, %s, ends after 20:00, the limit in Florida, Oklahoma and Washington", where, windowText(w))
		}
	}
	if w := p.wf.Settings.TimeWindow; w != nil {
		check("", "the workflow", w)
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind == KindWait && s.Wait != nil && s.Wait.Window != nil {
			check(s.ID, "wait "+stepLabel(s), s.Wait.Window)
		}
	}
}

func outsideText(start, end int) string {
	var parts []string
	if start < callingStart {
		parts = append(parts, "before 08:00")
	}
	if end > callingEnd {
		parts = append(parts, "after 21:00")
	}
	return strings.Join(parts, " and ")
}

// parseClock reads "HH:MM" (or "HH:MM:SS") as minutes after midnight; "24:00" is the end of the day.
func parseClock(s string) (int, bool) {
	hh, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, false
	}
	mm, sec, hasSec := strings.Cut(rest, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if hasSec {
		if n, err := strconv.Atoi(sec); err != nil || n < 0 || n > 59 {
			return 0, false
		}
	}
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

var wd029 = &rule{
	doc: RuleDoc{
		ID: "WD029", Category: "compliance", Severity: SeverityWarning,
		Title:   "Time window judged in the account's time zone",
		Summary: "SMS or calls are held by a time window while the workflow's time zone is not the contact's.",
		Why: "GHL judges waits and time windows in the workflow's time zone. Quiet hours are the recipient's: a 09:00-19:00 " +
			"window in an Eastern account texts a California lead at 6 am. With the contact's time zone GHL uses each " +
			"contact's own (and falls back to the account's when it does not know it).",
		Fix:     "In the workflow settings set Timezone to the contact's time zone.",
		Example: "A nurture with SMS behind 09:00-19:00 windows and Timezone set to the account's.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkWindowTimezone,
}

func checkWindowTimezone(p *pass) {
	tz := strings.TrimSpace(p.wf.Settings.Timezone)
	if strings.EqualFold(tz, "contact") {
		return
	}
	var held []int
	var t *timing
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindMessage || s.Message == nil || !isVoiceOrText(s.Message.Channel) || !p.g.reachable[i] {
			continue
		}
		if p.wf.Settings.TimeWindow == nil {
			if t == nil {
				t = p.g.timings()
			}
			if !t.windowed(i) {
				continue
			}
		}
		held = append(held, i)
	}
	if len(held) == 0 {
		return
	}
	zone := "the account's time zone"
	if tz != "" && !strings.EqualFold(tz, "account") {
		zone = tz + ", not the recipient's"
	}
	verb, them := "are", "them"
	if len(held) == 1 {
		verb, them = "is", "it"
	}
	p.report("", "%s %s held by a time window judged in %s: contacts in other time zones get %s outside the window's hours",
		capitalize(messageList(p.g, held)), verb, zone, them)
}

// messageList names message steps by channel and name, at most six: `SMS "Day 2" and call "Follow up"`.
func messageList(g *graph, idx []int) string {
	const show = 6
	names := make([]string, 0, min(len(idx), show))
	for _, i := range idx[:min(len(idx), show)] {
		s := &g.wf.Steps[i]
		names = append(names, channelName(s.Message.Channel)+" "+stepLabel(s))
	}
	if len(idx) > show {
		names = append(names, fmt.Sprintf("%d more", len(idx)-show))
	}
	return joinLabels(names)
}

var wd030 = &rule{
	doc: RuleDoc{
		ID: "WD030", Category: "compliance", Severity: SeverityWarning,
		Title:   "Time window on a time-critical step",
		Summary: "A message timed by an appointment- or event-relative wait before the appointment is held by a time window.",
		Why: "A time window does not skip an action, it holds it until the window next opens. On a reminder ladder the \"1 hour " +
			"before\" reminder for a 9 am appointment is held until the window opens, which can be after the appointment it " +
			"was reminding about. Follow-ups after the appointment (review requests, no-show recovery) may have windows.",
		Fix: "Remove the window from waits timed before the appointment (and the workflow-wide window from reminder workflows); " +
			"keep windows on follow-ups after the appointment.",
		Example: "SMS \"1 hour reminder\" follows wait \"1 hour before\", which has a 09:00-17:00 window.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkWindowedReminders,
}

func checkWindowedReminders(p *pass) {
	var t *timing
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindMessage || s.Message == nil {
			continue
		}
		if t == nil {
			t = p.g.timings()
		}
		windowed := p.wf.Settings.TimeWindow != nil
		var w int
		switch {
		case t.has(i, fromBeforeEvent, true):
			w = t.viaWait(i, fromBeforeEvent, true)
		case windowed && t.has(i, fromBeforeEvent, false):
			w = t.viaWait(i, fromBeforeEvent, false)
		default:
			continue
		}
		if w < 0 {
			// Only a wait sets a before-the-appointment source; a trigger never does.
			continue
		}
		wait := &p.wf.Steps[w]
		var window string
		switch {
		case wait.Wait != nil && wait.Wait.Window != nil:
			window = "that wait's time window " + windowText(wait.Wait.Window)
		case windowed:
			window = "the workflow's time window " + windowText(p.wf.Settings.TimeWindow)
		default:
			window = "a time window on a later wait"
		}
		p.report(s.ID, "%s is timed by %s (%s) and held by %s: GHL delays it until the window opens, which can be after the appointment",
			stepTitle(s), waitLabel(p.g, w), offsetText(wait.Wait), window)
	}
}

// offsetText says when an appointment-relative wait releases: "1 hour before the appointment".
func offsetText(w *Wait) string {
	what := "the appointment"
	if w != nil && w.Mode == WaitEventTime {
		what = "the event"
	}
	if w == nil || w.Offset == nil || w.Offset.Minutes == 0 {
		return "at the start of " + what
	}
	return formatOffset(-w.Offset.Minutes) + " " + what
}

var wd031 = &rule{
	doc: RuleDoc{
		ID: "WD031", Category: "compliance", Severity: SeverityWarning,
		Title:   "First SMS without opt-out text or sender name",
		Summary: "The first SMS a contact gets from the workflow does not say how to opt out or who is sending, and the location does not add it.",
		Why: "Carriers and CTIA rules expect the first message of a conversation to name the sender and say how to stop (\"Reply " +
			"STOP to opt out\"); A2P 10DLC campaigns are filtered when they do not. GHL's SMS compliance setting can append " +
			"both automatically; when it is off, the workflow's own copy has to carry them.",
		Fix: "Start the first SMS with the business name (\"Hi, it's Acme Dental\") and end it with \"Reply STOP to opt out\", or " +
			"turn on opt-out and sender identification in the location's SMS compliance settings.",
		Example: "The first SMS \"Thanks for your interest!\" has no business name and no STOP wording, and auto-append is off.",
		Needs:   []string{NeedsWorkflow, NeedsContext},
	},
	workflow: checkFirstSMSCompliance,
}

func checkFirstSMSCompliance(p *pass) {
	isSMS := func(s *Step) bool {
		return s.Kind == KindMessage && s.Message != nil && s.Message.Channel == ChannelSMS
	}
	hasSMS := false
	for i := range p.wf.Steps {
		hasSMS = hasSMS || isSMS(&p.wf.Steps[i])
	}
	if !hasSMS {
		return
	}
	ctx := p.loc.Context
	if ctx == nil {
		p.notAssessed("no location context: whether GHL appends opt-out text and the sender's name to the first SMS is unknown")
		return
	}
	comp := ctx.SMSCompliance
	if comp == nil {
		p.notAssessed("the location context has no SMS compliance settings: whether GHL appends opt-out text and the sender's name is unknown")
		return
	}
	appendsOptOut := comp.Enabled && comp.AutoAppendOptOut
	appendsSender := comp.Enabled && comp.AppendSenderIdentification
	if appendsOptOut && appendsSender {
		return
	}
	// The first SMS of every path: a walk from the entries that stops at each SMS.
	first := reachStopping(p.g, isSMS)
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if !first[i] || !isSMS(s) {
			continue
		}
		words := copyWords(s.Message.Body)
		var missing []string
		if !appendsOptOut && !hasOptOutWording(words) {
			missing = append(missing, "how to opt out (\"Reply STOP to opt out\")")
		}
		if !appendsSender && !hasSenderName(s.Message.Body, words, comp.SenderIdentification) {
			missing = append(missing, "who is sending it")
		}
		if len(missing) == 0 {
			continue
		}
		it := "it"
		if len(missing) > 1 {
			it = "them"
		}
		p.report(s.ID, "SMS %s is the first text contacts get from this workflow and does not say %s, and the location's SMS compliance setting does not add %s",
			stepLabel(s), joinLabels(missing), it)
	}
}

var wd032 = &rule{
	doc: RuleDoc{
		ID: "WD032", Category: "compliance", Severity: SeverityError,
		Title:   "Workflow clears do-not-disturb",
		Summary: "A DND step turns do-not-disturb off, re-opening channels the contact opted out of, without an explicit opt-in trigger.",
		Why: "GHL turns SMS DND on when a contact replies STOP and email DND on unsubscribe, and DND is what stops automated " +
			"sends. A workflow that turns it off re-opens a channel the contact closed; texting them afterwards is a TCPA " +
			"violation. Only an explicit opt-in (a form or survey the contact submitted, or a reply of START, YES or UNSTOP) " +
			"justifies it.",
		Fix: "Remove the step, or move it to a workflow triggered by the contact's own opt-in: a consent form or survey, or a " +
			"Customer Replied trigger filtered to START, YES or UNSTOP.",
		Example: "\"Re-engage\" starts on tag \"cold-lead\" and its first step turns DND off for SMS.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkDNDClear,
}

// optInKeywords are the replies providers treat as opting back in.
var optInKeywords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}

// isOptInTrigger reports whether a trigger is the contact's explicit opt-in: a form or survey
// submission (where consent is collected), or a customer reply filtered to opt-in keywords only.
func isOptInTrigger(t *Trigger) bool {
	switch t.Type {
	case TriggerFormSubmitted, TriggerSurveySubmitted:
		return true
	case TriggerCustomerReply:
		keyword := false
		for _, f := range t.Filters {
			if f.Field != "message.body" {
				continue
			}
			if f.Operator == "neq" || f.Operator == "not_in" || f.Operator == "not_contains" || len(f.Values) == 0 {
				return false
			}
			for _, v := range f.Values {
				if !optInKeywords[strings.ToUpper(strings.TrimSpace(v))] {
					return false
				}
			}
			keyword = true
		}
		return keyword
	}
	return false
}

func checkDNDClear(p *pass) {
	var notOptIn []string
	var unknown *Trigger
	triggers := enrollingTriggers(p.wf)
	for _, t := range triggers {
		if !isOptInTrigger(t) {
			notOptIn = append(notOptIn, triggerLabel(t))
			// A reply trigger filtered on something unreadable may be filtered to opt-in keywords.
			if t.Type == TriggerCustomerReply && len(unknownFilters(t)) > 0 && unknown == nil {
				unknown = t
			}
		}
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindDND || s.DND == nil || s.DND.Enable {
			continue
		}
		var start string
		switch {
		case len(triggers) == 0:
			start = "the workflow has no trigger of its own, so nothing shows the contact opted back in"
		case len(notOptIn) == 0:
			continue
		case unknown != nil:
			p.triggerNotAssessed(unknown, unknownFilters(unknown))
			continue
		default:
			start = fmt.Sprintf("trigger %s is not an explicit opt-in", joinLabels(notOptIn))
		}
		p.report(s.ID, "%s turns do-not-disturb off for %s, re-opening channels the contact may have closed by replying STOP or unsubscribing; %s",
			stepTitle(s), dndChannels(s.DND.Channels), start)
	}
}

// dndChannels names the channels of a DND step: "SMS and email", or "all channels" when it lists none.
func dndChannels(chs []string) string {
	if len(chs) == 0 {
		return "all channels"
	}
	names := make([]string, len(chs))
	for i, c := range chs {
		switch strings.ToLower(strings.TrimSpace(c)) {
		case ChannelSMS:
			names[i] = "SMS"
		case ChannelEmail:
			names[i] = "email"
		case ChannelCall:
			names[i] = "calls"
		default:
			names[i] = c
		}
	}
	return joinLabels(names)
}

var wd033 = &rule{
	doc: RuleDoc{
		ID: "WD033", Category: "compliance", Severity: SeverityWarning,
		Title:   "Reserved opt-out keyword used for another purpose",
		Summary: "SMS copy asks the contact to reply STOP, CANCEL, END, QUIT or UNSUBSCRIBE for something other than opting out.",
		Why: "Carriers and GHL treat STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT as an opt-out whatever the message " +
			"asked: \"Reply CANCEL to cancel your appointment\" unsubscribes the contact from every text (GHL turns SMS DND on) " +
			"instead of cancelling, and no reminder or follow-up reaches them again.",
		Fix:     "Ask for a different word (\"Reply C to cancel\", \"Reply 2 to reschedule\") and keep STOP for opting out.",
		Example: "SMS \"Reminder\" says \"Reply CANCEL to cancel your appointment\".",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkReservedKeywords,
}

func checkReservedKeywords(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindMessage || s.Message == nil || s.Message.Channel != ChannelSMS {
			continue
		}
		words := copyWords(s.Message.Body)
		var seen []string
		for _, r := range keywordRequests(words) {
			if isOptOutPurpose(r.Purpose, words) || slices.Contains(seen, r.Keyword) {
				continue
			}
			seen = append(seen, r.Keyword)
			p.report(s.ID, "SMS %s asks the contact to reply %s %s, but %s is a carrier opt-out keyword: the reply unsubscribes the contact from all texts instead",
				stepLabel(s), r.Keyword, strings.Join(r.Purpose, " "), r.Keyword)
		}
	}
}

var wd034 = &rule{
	doc: RuleDoc{
		ID: "WD034", Category: "compliance", Severity: SeverityInfo,
		Title:   "Marketing email without unsubscribe link or postal address",
		Summary: "A marketing email has no unsubscribe link or no postal address.",
		Why: "CAN-SPAM requires every commercial email to carry a working way to unsubscribe and the sender's valid postal " +
			"address; mailbox providers also filter bulk mail without a visible unsubscribe, which hurts the location's " +
			"sending domain.",
		Fix: "Add an unsubscribe link ({{unsubscribe_link}} or the email builder's footer) and the business's postal address " +
			"({{location.full_address}}), or mark the email as transactional if it is not marketing.",
		Example: "Email \"Spring offer\" has neither an unsubscribe link nor an address in its footer.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkMarketingEmailFooter,
}

func checkMarketingEmailFooter(p *pass) {
	var templated []string
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindMessage || s.Message == nil || s.Message.Channel != ChannelEmail || s.Message.Transactional {
			continue
		}
		html := s.Message.HTML
		if strings.TrimSpace(html) == "" {
			// An email with neither content nor template is WD026's; one built from a template has its
			// content in the template, which the input does not carry.
			if strings.TrimSpace(s.Message.TemplateID) != "" {
				templated = append(templated, stepLabel(s))
			}
			continue
		}
		var missing []string
		if !hasUnsubscribeLink(html) {
			missing = append(missing, "no unsubscribe link")
		}
		if !hasPostalAddress(html) {
			missing = append(missing, "no postal address")
		}
		if len(missing) > 0 {
			p.report(s.ID, "Marketing email %s has %s, which CAN-SPAM requires in every commercial email", stepLabel(s), strings.Join(missing, " and "))
		}
	}
	switch len(templated) {
	case 0:
	case 1:
		p.notAssessed(fmt.Sprintf("email %s uses a template whose content is not in the input", templated[0]))
	default:
		p.notAssessed(fmt.Sprintf("emails %s use templates whose content is not in the input", joinLabels(templated)))
	}
}
