package simulate_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

const (
	ny = "America/New_York"
	la = "America/Los_Angeles"
	ch = "America/Chicago"
)

// scenario is one simulation with what the contact must receive and what the trace must say.
type scenario struct {
	name string
	loc  *analyzer.Location
	req  simulate.Request
	// messages are "LOCAL CHANNEL TEXT", exactly and in order.
	messages []string
	// trace are substrings of "KIND WORKFLOW/STEP: DETAIL" lines that must appear in this order.
	trace []string
	// findings are "KIND:RULE", exactly and in order.
	findings []string
	// exits are "WORKFLOW:EXIT" for every workflow run, in order of entry; nil skips the check.
	exits []string
	// assumptions are the assumption kinds, in order; nil skips the check.
	assumptions []string
}

func contact(tz string, fields map[string]string, tags ...string) simulate.Contact {
	return simulate.Contact{ID: "lead-1", Timezone: tz, Fields: fields, Tags: tags}
}

func ev(when, typ string) simulate.Event {
	return simulate.Event{At: at(when), Type: typ}
}

func form(when, name string) simulate.Event {
	e := ev(when, simulate.EventFormSubmitted)
	e.Form = name
	return e
}

func tagEv(when, tag string) simulate.Event {
	e := ev(when, simulate.EventTagAdded)
	e.Tag = tag
	return e
}

func replyEv(when, text string) simulate.Event {
	e := ev(when, simulate.EventCustomerReplied)
	e.Text = text
	return e
}

func apptEv(when, typ, id, start string) simulate.Event {
	e := ev(when, typ)
	e.Appointment = &simulate.Appointment{ID: id}
	if start != "" {
		e.Appointment.Start = at(start)
	}
	return e
}

var confirmed = trig(analyzer.TriggerAppointment, filter("appointment.status", "eq", "confirmed"))

func scenarios() []scenario {
	quoteForm := trig(analyzer.TriggerFormSubmitted, filter("form", "eq", "Quote request"))
	ana := map[string]string{"first_name": "Ana", "email": "ana@example.com"}
	contactZone := analyzer.Settings{Timezone: "contact"}
	sequence := func(set analyzer.Settings) *analyzer.Location {
		return location(flow("seq", set, quoteForm,
			sms("s1", "Hi {{contact.first_name}}, got your request."), delay("d1", 1, "day"),
			sms("s2", "Still keen?"), delay("d2", 1, "day"), sms("s3", "Last one from me.")))
	}
	reminders := func(extra ...analyzer.Step) *analyzer.Location {
		steps := []analyzer.Step{sms("s1", "You're booked for {{appointment.start_time}}."), apptWait("w1", "before", 1440),
			sms("s2", "See you tomorrow."), apptWait("w2", "before", 60), sms("s3", "See you in an hour.")}
		return location(flow("remind", contactZone, confirmed, append(steps, extra...)...))
	}
	booked := apptEv("2026-03-02T10:00:00-05:00", simulate.EventAppointmentBooked, "appt-1", "2026-03-05T15:00:00-05:00")
	vip := graph("vip", analyzer.Settings{}, quoteForm,
		[]analyzer.Step{ifElse("c1", "VIP?", branch("VIP", clause("tag", "eq", "vip"))), sms("s-vip", "Welcome back, VIP."), sms("s-std", "Welcome.")},
		branchEdge("c1", "s-vip", "VIP"), elseEdge("c1", "s-std"))
	replyFlow := graph("ask", contactZone, quoteForm,
		[]analyzer.Step{sms("s1", "Still interested?"), replyWait("w1", dur(1, "day")), sms("s2", "Great, here is the link."), sms("s3", "No worries.")},
		next("s1", "w1"), next("w1", "s2"), timeoutEdge("w1", "s3"))
	day := "2026-03-02T10:00:00-05:00"

	return []scenario{
		{
			name:     "quote form at 21:40 gets an immediate text in quiet hours",
			loc:      location(flow("quote", analyzer.Settings{}, quoteForm, sms("s1", "Hi {{contact.first_name}}, thanks for the quote request."))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-01T21:40:00-05:00", "Quote request")},
			messages: []string{"2026-03-01T21:40:00-05:00 sms Hi Ana, thanks for the quote request."},
			trace:    []string{`event /: form_submitted form="Quote request"`, `enter quote/: Entered by trigger form_submitted: form = "Quote request"`, "send quote/s1", "exit quote/s1: Reached the end"},
			findings: []string{"quiet-hours:"},
			exits:    []string{"quote:completed"},
		},
		{
			name: "a form that names another form enters nothing",
			loc:  location(flow("quote", analyzer.Settings{}, quoteForm, sms("s1", "Hi"))),
			req:  simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-01T12:00:00-05:00", "Newsletter")},
		},
		{
			name: "a one-day delay without a window texts at 21:40 the next day",
			loc:  location(flow("seq", analyzer.Settings{}, quoteForm, sms("s1", "Hi"), delay("d1", 1, "day"), sms("s2", "Following up"))),
			req:  simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-01T21:40:00-05:00", "Quote request"), AccountTimezone: ny},
			messages: []string{
				"2026-03-01T21:40:00-05:00 sms Hi",
				"2026-03-02T21:40:00-05:00 sms Following up",
			},
			trace:    []string{"wait seq/d1: Waits until Mon 2 Mar 21:40 (time delay of 1 day)", "resume seq/d1"},
			findings: []string{"quiet-hours:", "quiet-hours:WD027"},
		},
		{
			name:     "the workflow's window holds a 21:40 text until 09:00 the next day",
			loc:      location(flow("quote", analyzer.Settings{Timezone: "contact", TimeWindow: window("09:00", "17:00")}, quoteForm, sms("s1", "Morning, Ana here."))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-01T21:40:00-05:00", "Quote request")},
			messages: []string{"2026-03-02T09:00:00-05:00 sms Morning, Ana here."},
			trace:    []string{"wait quote/s1: The workflow's time window (every day 09:00-17:00 in the contact's zone) holds this sms until Mon 2 Mar 09:00", "resume quote/s1: The time window opens", "send quote/s1"},
		},
		{
			name: "calendar days keep the clock time across the DST change, hours do not",
			loc: location(flow("dst", contactZone, quoteForm,
				sms("s1", "one"), delay("d1", 24, "hours"), sms("s2", "two"), delay("d2", 1, "day"), sms("s3", "three"))),
			req: simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-07T10:00:00-05:00", "Quote request")},
			messages: []string{
				"2026-03-07T10:00:00-05:00 sms one",
				"2026-03-08T11:00:00-04:00 sms two",
				"2026-03-09T11:00:00-04:00 sms three",
			},
		},
		{
			name:     "a weekday window holds a Friday evening text until Monday, after the DST change",
			loc:      location(flow("quote", analyzer.Settings{Timezone: "contact", TimeWindow: window("09:00", "17:00", 1, 2, 3, 4, 5)}, quoteForm, sms("s1", "Hi"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-06T18:00:00-05:00", "Quote request")},
			messages: []string{"2026-03-09T09:00:00-04:00 sms Hi"},
			trace:    []string{"holds this sms until Mon 9 Mar 09:00"},
		},
		{
			name:     "a window in the account's zone lets a text reach a West Coast contact at 06:00",
			loc:      location(flow("quote", analyzer.Settings{Timezone: "account", TimeWindow: window("08:00", "20:00")}, quoteForm, sms("s1", "Hi"))),
			req:      simulate.Request{Contact: contact(la, ana), Start: form("2026-03-02T22:30:00-08:00", "Quote request"), AccountTimezone: ch},
			messages: []string{"2026-03-03T06:00:00-08:00 sms Hi"},
			findings: []string{"quiet-hours:WD029"},
		},
		{
			name:     "a window that opens at 07:00 lets a text out before calling hours",
			loc:      location(flow("quote", analyzer.Settings{Timezone: "contact", TimeWindow: window("07:00", "22:00")}, quoteForm, sms("s1", "Hi"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-02T06:00:00-05:00", "Quote request")},
			messages: []string{"2026-03-02T07:00:00-05:00 sms Hi"},
			findings: []string{"quiet-hours:WD028"},
		},
		{
			name:     "a wait's own window past midnight releases at 22:00",
			loc:      location(flow("night", contactZone, quoteForm, delayWindow("d1", 1, "hours", window("22:00", "06:00")), email("e1", "Night owl", "<p>Hello</p>"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form("2026-03-02T12:00:00-05:00", "Quote request")},
			messages: []string{"2026-03-02T22:00:00-05:00 email Hello"},
		},
		{
			name:     "if/else takes the VIP branch on the contact's tag",
			loc:      location(vip),
			req:      simulate.Request{Contact: contact(ny, ana, "vip"), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Welcome back, VIP."},
			trace:    []string{`branch vip/c1: If/else "VIP?": branch "VIP" matches.`},
		},
		{
			name:     "if/else falls to None without the tag",
			loc:      location(vip),
			req:      simulate.Request{Contact: contact(ny, ana, "lead"), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Welcome."},
			trace:    []string{`branch vip/c1: If/else "VIP?": no branch matches, so the "None" branch runs.`},
		},
		{
			name: "if/else compares a custom field as a number",
			loc: location(graph("budget", analyzer.Settings{}, quoteForm,
				[]analyzer.Step{ifElse("c1", "Budget", branch("High", clause("contact.budget", "gt", "1000"))), sms("hi", "Premium package."), sms("lo", "Starter package.")},
				branchEdge("c1", "hi", "High"), elseEdge("c1", "lo"))),
			req:      simulate.Request{Contact: contact(ny, map[string]string{"budget": "5000"}), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Premium package."},
		},
		{
			name:     "a reply releases a wait for reply down its reply path",
			loc:      location(replyFlow),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{replyEv("2026-03-02T12:00:00-05:00", "Yes please")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Still interested?", "2026-03-02T12:00:00-05:00 sms Great, here is the link."},
			trace:    []string{"wait ask/w1: Waits for a reply, at most until Tue 3 Mar 10:00", `resume ask/w1: Wait "w1" ends: the contact replied "Yes please"`},
		},
		{
			name:     "no reply: the wait times out down its timeout path",
			loc:      location(replyFlow),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Still interested?", "2026-03-03T10:00:00-05:00 sms No worries."},
			trace:    []string{`resume ask/w1: Wait "w1" timed out: a reply did not happen.`},
		},
		{
			name:     "a wait for reply without timeout parks the contact forever",
			loc:      location(flow("park", analyzer.Settings{}, quoteForm, sms("s1", "Reply YES to confirm."), replyWait("w1", nil), sms("s2", "Confirmed."))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Horizon: "7d"},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Reply YES to confirm."},
			findings: []string{"parked-forever:WD008"},
			exits:    []string{"park:horizon"},
		},
		{
			name:     "a condition wait releases when a person adds the tag",
			loc:      location(flow("pay", analyzer.Settings{}, quoteForm, condWait("w1", nil, clause("tag", "eq", "paid")), email("e1", "Receipt", "Thanks for paying."))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{tagEv("2026-03-02T13:00:00-05:00", "paid")}},
			messages: []string{"2026-03-02T13:00:00-05:00 email Thanks for paying."},
			trace:    []string{"wait pay/w1: Waits for a condition, with no timeout.", `resume pay/w1: Wait "w1" ends: its condition became true.`},
		},
		{
			name:     "a condition wait already true releases at once",
			loc:      location(flow("pay", analyzer.Settings{}, quoteForm, condWait("w1", nil, clause("tag", "eq", "paid")), email("e1", "Receipt", "Thanks for paying."))),
			req:      simulate.Request{Contact: contact(ny, ana, "paid"), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 email Thanks for paying."},
			trace:    []string{"its condition is already true"},
		},
		{
			name:     "stop on response ends the sequence after a reply",
			loc:      sequence(analyzer.Settings{Timezone: "contact", StopOnResponse: true}),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{replyEv("2026-03-02T12:00:00-05:00", "Can you call me?")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Hi Ana, got your request."},
			trace:    []string{`event /: customer_replied text="Can you call me?"`, "exit seq/d1: Stop on response"},
			exits:    []string{"seq:stop-on-response"},
		},
		{
			name: "a reply does not stop a sequence with stop on response off",
			loc:  sequence(contactZone),
			req:  simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{replyEv("2026-03-02T12:00:00-05:00", "Can you call me?")}},
			messages: []string{
				"2026-03-02T10:00:00-05:00 sms Hi Ana, got your request.",
				"2026-03-03T10:00:00-05:00 sms Still keen?",
				"2026-03-04T10:00:00-05:00 sms Last one from me.",
			},
			exits: []string{"seq:completed"},
		},
		{
			name: "STOP turns SMS DND on: later texts are suppressed, email still goes",
			loc:  location(flow("mix", contactZone, quoteForm, sms("s1", "Hi"), delay("d1", 1, "day"), sms("s2", "Following up"), email("e1", "Your quote", "Here it is."))),
			req:  simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{replyEv("2026-03-02T11:00:00-05:00", "STOP")}},
			messages: []string{
				"2026-03-02T10:00:00-05:00 sms Hi",
				"2026-03-03T10:00:00-05:00 email Here it is.",
			},
			trace:    []string{`write /: "STOP" is an opt-out keyword: DND turned on for sms`, "suppress mix/s2: sms not sent: the contact has DND on for sms."},
			findings: []string{"after-opt-out:WD023"},
		},
		{
			name: "a workflow that clears DND texts the contact after STOP",
			loc: location(
				flow("reengage", contactZone, trig(analyzer.TriggerContactTag, filter("tag", "eq", "reengage")), dndStep("u1", false, "sms"), sms("s1", "We miss you!")),
			),
			req:      simulate.Request{Contact: contact(ny, ana), Start: replyEv(day, "stop"), Events: []simulate.Event{tagEv("2026-03-02T12:00:00-05:00", "reengage")}},
			messages: []string{"2026-03-02T12:00:00-05:00 sms We miss you!"},
			trace:    []string{"write reengage/u1: DND turned off for sms."},
			findings: []string{"after-opt-out:WD032"},
		},
		{
			name: "appointment reminders go out a day and an hour before",
			loc:  reminders(),
			req:  simulate.Request{Contact: contact(ny, ana), Start: booked},
			messages: []string{
				"2026-03-02T10:00:00-05:00 sms You're booked for Thursday, March 5, 2026 3:00 PM.",
				"2026-03-04T15:00:00-05:00 sms See you tomorrow.",
				"2026-03-05T14:00:00-05:00 sms See you in an hour.",
			},
			trace: []string{"wait remind/w1: Waits until Wed 4 Mar 15:00 (1 day before the appointment)", "wait remind/w2: Waits until Thu 5 Mar 14:00 (1 hour before the appointment)"},
		},
		{
			name: "an appointment cancelled before its reminder still gets the reminders",
			loc:  reminders(),
			req: simulate.Request{Contact: contact(ny, ana), Start: booked,
				Events: []simulate.Event{apptEv("2026-03-03T09:00:00-05:00", simulate.EventAppointmentCancelled, "appt-1", "")}},
			messages: []string{
				"2026-03-02T10:00:00-05:00 sms You're booked for Thursday, March 5, 2026 3:00 PM.",
				"2026-03-04T15:00:00-05:00 sms See you tomorrow.",
				"2026-03-05T14:00:00-05:00 sms See you in an hour.",
			},
			findings: []string{"after-cancellation:", "after-cancellation:"},
		},
		{
			name: "a goal on cancellation pulls the contact out before the reminders",
			loc:  reminders(goal("g1", "appointment_status", "cancelled")),
			req: simulate.Request{Contact: contact(ny, ana), Start: booked,
				Events: []simulate.Event{apptEv("2026-03-03T09:00:00-05:00", simulate.EventAppointmentCancelled, "appt-1", "")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms You're booked for Thursday, March 5, 2026 3:00 PM."},
			trace:    []string{`step remind/g1: Goal "g1" met`, "exit remind/g1: Reached the end of the workflow."},
			exits:    []string{"remind:goal"},
		},
		{
			name: "a rescheduled appointment moves the wait and books again",
			loc:  location(flow("hour", contactZone, confirmed, apptWait("w1", "before", 60), sms("s1", "See you in an hour."))),
			req: simulate.Request{Contact: contact(ny, ana), Start: booked,
				Events: []simulate.Event{apptEv("2026-03-03T09:00:00-05:00", simulate.EventAppointmentRescheduled, "appt-1", "2026-03-06T15:00:00-05:00")}},
			messages: []string{
				"2026-03-06T14:00:00-05:00 sms See you in an hour.",
				"2026-03-06T14:00:00-05:00 sms See you in an hour.",
			},
			trace: []string{"wait hour/w1: The appointment moved: wait \"w1\" now ends at Fri 6 Mar 14:00.", "enter hour/: Entered by trigger appointment"},
			exits: []string{"hour:completed", "hour:completed"},
		},
		{
			name: "a reminder held by a window past the appointment",
			loc:  location(flow("hour", analyzer.Settings{Timezone: "contact", TimeWindow: window("09:00", "17:00")}, confirmed, apptWait("w1", "before", 60), sms("s1", "See you in an hour."))),
			req: simulate.Request{Contact: contact(ny, ana),
				Start: apptEv("2026-03-02T10:00:00-05:00", simulate.EventAppointmentBooked, "appt-1", "2026-03-05T08:30:00-05:00")},
			messages: []string{"2026-03-05T09:00:00-05:00 sms See you in an hour."},
			findings: []string{"after-appointment:WD030"},
		},
		{
			name: "a tag starts a second workflow, which adds the contact to a third",
			loc: location(
				flow("intake", analyzer.Settings{}, quoteForm, tagAdd("t1", "hot")),
				flow("hot", analyzer.Settings{}, trig(analyzer.TriggerContactTag, filter("tag", "eq", "hot")), sms("s1", "A specialist will call you."), addTo("a1", "owner")),
				flow("owner", analyzer.Settings{}, nil, email("e1", "New hot lead", "Call them now.")),
			),
			req: simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages: []string{
				"2026-03-02T10:00:00-05:00 sms A specialist will call you.",
				"2026-03-02T10:00:00-05:00 email Call them now.",
			},
			trace: []string{`write intake/t1: Tag "hot" added.`, `enter hot/: Entered by trigger contact_tag (written by "Intake" step t1): tag = "hot"`, `enter owner/: Entered by add to workflow from "Hot" step a1.`},
			exits: []string{"intake:completed", "hot:completed", "owner:completed"},
		},
		{
			name: "a field write fires another workflow's contact-changed trigger",
			loc: location(
				flow("stamp", analyzer.Settings{}, quoteForm, setField("f1", "contact.lead_state", "quoted")),
				flow("watch", analyzer.Settings{}, trig(analyzer.TriggerContactChanged, filter("contact.lead_state", "has_changed")), sms("s1", "Status: {{contact.lead_state}}")),
			),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Status: quoted"},
		},
		{
			name: "a stage change wins the deal and fires the won workflow",
			loc: location(
				flow("close", analyzer.Settings{}, trig(analyzer.TriggerPipelineStage, filter("pipeline.stage.id", "eq", "stg_signed")), oppUpdate("o1", "pipe", "", "won")),
				flow("won", analyzer.Settings{}, trig(analyzer.TriggerOpportunityStatus, filter("opportunity.status", "eq", "won")), sms("s1", "Welcome aboard!")),
			),
			req: simulate.Request{Contact: simulate.Contact{Timezone: ny, Opportunities: []simulate.Opportunity{{PipelineID: "pipe", StageID: "stg_new"}}},
				Start: simulate.Event{At: at(day), Type: simulate.EventStageChanged, PipelineID: "pipe", StageID: "stg_signed"}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Welcome aboard!"},
		},
		{
			name: "remove from workflow stops a sequence the contact is waiting in",
			loc: location(
				flow("nurture", contactZone, trig(analyzer.TriggerContactTag, filter("tag", "eq", "nurture")), sms("s1", "Tip 1"), delay("d1", 1, "day"), sms("s2", "Tip 2")),
				flow("booked", analyzer.Settings{}, trig(analyzer.TriggerFormSubmitted, filter("form", "eq", "Booking")), removeFrom("r1", "nurture"), sms("s1", "Booked!")),
			),
			req:      simulate.Request{Contact: contact(ny, ana), Start: tagEv(day, "nurture"), Events: []simulate.Event{form("2026-03-02T12:00:00-05:00", "Booking")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Tip 1", "2026-03-02T12:00:00-05:00 sms Booked!"},
			trace:    []string{`exit nurture/d1: Removed by "Booked" step r1.`},
			exits:    []string{"nurture:removed", "booked:completed"},
		},
		{
			name:     "re-entry off: a second submission does not enter again",
			loc:      location(flow("quote", analyzer.Settings{}, quoteForm, sms("s1", "Thanks!"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{form("2026-03-02T11:00:00-05:00", "Quote request")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Thanks!"},
			trace:    []string{"not-entered quote/: Not entered (trigger form_submitted): the contact was in this workflow before and Allow Re-entry is off."},
		},
		{
			name:     "re-entry on: a second submission enters again",
			loc:      location(flow("quote", analyzer.Settings{AllowReEntry: true}, quoteForm, sms("s1", "Thanks!"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{form("2026-03-02T11:00:00-05:00", "Quote request")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Thanks!", "2026-03-02T11:00:00-05:00 sms Thanks!"},
			exits:    []string{"quote:completed", "quote:completed"},
		},
		{
			name: "tag ping-pong between two workflows is stopped by GHL's loop protection",
			loc: location(
				flow("ping", analyzer.Settings{AllowReEntry: true}, trig(analyzer.TriggerContactTag, filter("tag", "eq", "ping")), tagRemove("r1", "ping"), tagAdd("a1", "pong")),
				flow("pong", analyzer.Settings{AllowReEntry: true}, trig(analyzer.TriggerContactTag, filter("tag", "eq", "pong")), tagRemove("r1", "pong"), sms("s1", "Ping!"), tagAdd("a1", "ping")),
			),
			req:      simulate.Request{Contact: contact(ny, ana), Start: tagEv(day, "ping")},
			messages: repeat("2026-03-02T10:00:00-05:00 sms Ping!", 50),
			trace:    []string{"not-entered ping/: Not entered (trigger contact_tag (written by \"Pong\" step a1)): GHL's loop protection stopped the workflow."},
			findings: []string{"loop-protection:WD019", "message-burst:"},
		},
		{
			name:     "a go-to loop without a wait is stopped by loop protection after 50 texts",
			loc:      location(flow("spin", analyzer.Settings{}, quoteForm, sms("s1", "Are you there?"), goTo("g1", "s1"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages: repeat("2026-03-02T10:00:00-05:00 sms Are you there?", 50),
			trace:    []string{`exit spin/s1: Stopped by GHL's loop protection: step "s1" ran 50 times for this contact within 30 minutes.`},
			findings: []string{"loop-protection:WD002", "message-burst:"},
			exits:    []string{"spin:loop-protection"},
		},
		{
			name: "a goal met mid-sequence skips the rest",
			loc: location(flow("nurture", contactZone, quoteForm, sms("s1", "Tip 1"), delay("d1", 2, "days"), sms("s2", "Tip 2"),
				goal("g1", "tag_added", "booked"), sms("s3", "Thanks for booking!"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request"), Events: []simulate.Event{tagEv("2026-03-03T10:00:00-05:00", "booked")}},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Tip 1", "2026-03-03T10:00:00-05:00 sms Thanks for booking!"},
			exits:    []string{"nurture:goal"},
		},
		{
			name: "webhook, AI and unknown steps take their default paths as assumptions",
			loc: location(flow("mixed", analyzer.Settings{}, quoteForm, webhook("h1", "https://hooks.example.com/x"), action("ai1", "chatgpt"),
				unknownStep("u1", "lc_linear_create_issue"), unknownWait("w1"), sms("s1", "Done."))),
			req:         simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages:    []string{"2026-03-02T10:00:00-05:00 sms Done."},
			assumptions: []string{"webhook", "ai-step", "unknown-step", "unknown-wait"},
		},
		{
			name: "merge fields fill from the contact and custom values, blanks are marked",
			loc: func() *analyzer.Location {
				l := location(flow("hello", analyzer.Settings{}, quoteForm, sms("s1", "Hi {{ contact.first_name | default: 'there' }}, about {{contact.company_name}}: {{custom_values.booking_link}}")))
				l.Context = &analyzer.Context{CustomValues: []analyzer.CustomValue{{Key: "custom_values.booking_link", Value: "https://book.example.com"}}}
				return l
			}(),
			req:      simulate.Request{Contact: contact(ny, nil), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms Hi there, about : https://book.example.com"},
			findings: []string{"blank-merge-field:WD036"},
		},
		{
			name: "drafts and inactive triggers never start",
			loc: func() *analyzer.Location {
				off := flow("off", analyzer.Settings{}, trig(analyzer.TriggerFormSubmitted), sms("s1", "off"))
				off.Triggers[0].Active = false
				return location(draft(flow("draft", analyzer.Settings{}, quoteForm, sms("s1", "draft"))), off)
			}(),
			req:   simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			exits: []string{},
		},
		{
			name: "six texts in a day are a burst",
			loc: location(flow("push", contactZone, quoteForm, sms("s1", "1"), delay("d1", 1, "hour"), sms("s2", "2"), delay("d2", 1, "hour"), sms("s3", "3"),
				delay("d3", 1, "hour"), sms("s4", "4"), delay("d4", 1, "hour"), sms("s5", "5"), delay("d5", 1, "hour"), sms("s6", "6"))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: form(day, "Quote request")},
			messages: []string{"2026-03-02T10:00:00-05:00 sms 1", "2026-03-02T11:00:00-05:00 sms 2", "2026-03-02T12:00:00-05:00 sms 3", "2026-03-02T13:00:00-05:00 sms 4", "2026-03-02T14:00:00-05:00 sms 5", "2026-03-02T15:00:00-05:00 sms 6"},
			findings: []string{"message-burst:"},
		},
		{
			name: "a trigger type the event names directly",
			loc: location(flow("order", analyzer.Settings{}, []analyzer.Trigger{{Type: "order_form_submission", RawType: "order_form_submission", Known: true, Active: true}},
				email("e1", "You're in", "Thanks for your order."))),
			req:      simulate.Request{Contact: contact(ny, ana), Start: simulate.Event{At: at(day), Type: simulate.EventTrigger, Trigger: "order_form_submission"}},
			messages: []string{"2026-03-02T10:00:00-05:00 email Thanks for your order."},
		},
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func traceLines(res *simulate.Result) []string {
	out := make([]string, len(res.Trace))
	for i, t := range res.Trace {
		out[i] = fmt.Sprintf("%s %s/%s: %s", t.Kind, t.WorkflowID, t.StepID, t.Detail)
	}
	return out
}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			res, err := simulate.Run(sc.loc, sc.req)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var msgs []string
			for _, m := range res.Messages {
				msgs = append(msgs, m.Local+" "+m.Channel+" "+m.Text)
			}
			lines := traceLines(res)
			dump := func() string { return strings.Join(lines, "\n") }
			if !slices.Equal(msgs, sc.messages) {
				t.Errorf("messages:\n got %q\nwant %q\ntrace:\n%s", msgs, sc.messages, dump())
			}
			pos := 0
			for _, want := range sc.trace {
				i := slices.IndexFunc(lines[pos:], func(l string) bool { return strings.Contains(l, want) })
				if i < 0 {
					t.Errorf("trace has no line %q after line %d:\n%s", want, pos, dump())
					break
				}
				pos += i + 1
			}
			var finds []string
			for _, f := range res.Findings {
				finds = append(finds, f.Kind+":"+f.RuleID)
			}
			if !slices.Equal(finds, sc.findings) {
				t.Errorf("findings: got %q, want %q\n%+v", finds, sc.findings, res.Findings)
			}
			if sc.exits != nil {
				exits := []string{}
				for _, w := range res.Workflows {
					exits = append(exits, w.WorkflowID+":"+w.Exit)
				}
				if !slices.Equal(exits, sc.exits) {
					t.Errorf("exits: got %q, want %q", exits, sc.exits)
				}
			}
			if sc.assumptions != nil {
				var kinds []string
				for _, a := range res.Assumptions {
					kinds = append(kinds, a.Kind)
				}
				if !slices.Equal(kinds, sc.assumptions) {
					t.Errorf("assumptions: got %q, want %q", kinds, sc.assumptions)
				}
			}
		})
	}
}
