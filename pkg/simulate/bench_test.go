package simulate_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

// benchLocation is 20 published workflows of the kinds an agency runs: speed-to-lead sequences on
// forms with windows and reply waits, tag-driven nurtures with if/else, appointment reminders,
// reply routers that write tags and fields, and stage automations. Every one can be re-entered, so
// each event keeps doing work.
func benchLocation() *analyzer.Location {
	set := analyzer.Settings{AllowReEntry: true, Timezone: "contact", TimeWindow: window("08:00", "21:00")}
	var wfs []analyzer.Workflow
	for i := range 5 {
		tag := fmt.Sprintf("t%d", i)
		wfs = append(wfs,
			graph(fmt.Sprintf("speed%d", i), set, trig(analyzer.TriggerFormSubmitted, filter("form", "eq", fmt.Sprintf("form%d", i))),
				[]analyzer.Step{sms("s1", "Hi {{contact.first_name}}, thanks!"), replyWait("w1", dur(1, "hour")), sms("s2", "Great, talk soon."),
					email("e1", "Following up", "<p>Hi {{contact.first_name | default: 'there'}}</p>"), tagAdd("a1", tag)},
				next("s1", "w1"), next("w1", "s2"), timeoutEdge("w1", "e1"), next("s2", "a1"), next("e1", "a1")),
			graph(fmt.Sprintf("nurture%d", i), set, trig(analyzer.TriggerContactTag, filter("tag", "eq", tag)),
				[]analyzer.Step{ifElse("c1", "VIP?", branch("VIP", clause("tag", "eq", "vip"), clause("contact.budget", "gt", "1000"))),
					sms("v1", "VIP offer"), delay("d1", 2, "hours"), sms("n1", "Tip {{contact.first_name}}"), delay("d2", 1, "day"), email("n2", "Tip 2", "More"), tagRemove("r1", tag)},
				branchEdge("c1", "v1", "VIP"), elseEdge("c1", "d1"), next("v1", "d1"), next("d1", "n1"), next("n1", "d2"), next("d2", "n2"), next("n2", "r1")),
			flow(fmt.Sprintf("remind%d", i), set, confirmed, sms("s1", "Booked for {{appointment.start_time}}"), apptWait("w1", "before", 1440),
				sms("s2", "Tomorrow!"), apptWait("w2", "before", 60), sms("s3", "In an hour")),
			flow(fmt.Sprintf("router%d", i), analyzer.Settings{AllowReEntry: true}, trig(analyzer.TriggerCustomerReply, filter("message.body", "contains", fmt.Sprintf("k%d", i))),
				setField("f1", "contact.last_reply", "{{right_now.date}}"), tagAdd("a1", fmt.Sprintf("replied%d", i)), oppUpdate("o1", "pipe", fmt.Sprintf("stg%d", i), "")),
		)
	}
	return location(wfs...)
}

// benchRequest is a contact and n events over 30 days: form submissions, replies, tags added and
// removed, bookings and cancellations, in rotation.
func benchRequest(n int) simulate.Request {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	req := simulate.Request{
		Contact: simulate.Contact{ID: "bench", Timezone: "America/New_York", Fields: map[string]string{"first_name": "Ana", "budget": "5000"}, Tags: []string{"vip"},
			Opportunities: []simulate.Opportunity{{PipelineID: "pipe", StageID: "stg0"}}},
		Start:           simulate.Event{At: start, Type: simulate.EventFormSubmitted, Form: "form0"},
		AccountTimezone: "America/Chicago",
	}
	step := 30 * 24 * time.Hour / time.Duration(n)
	for i := 1; i < n; i++ {
		t := start.Add(time.Duration(i) * step)
		k := i % 5
		var e simulate.Event
		switch i % 6 {
		case 0:
			e = simulate.Event{At: t, Type: simulate.EventFormSubmitted, Form: fmt.Sprintf("form%d", k)}
		case 1:
			e = simulate.Event{At: t, Type: simulate.EventCustomerReplied, Text: fmt.Sprintf("k%d yes", k)}
		case 2:
			e = simulate.Event{At: t, Type: simulate.EventTagAdded, Tag: fmt.Sprintf("t%d", k)}
		case 3:
			e = simulate.Event{At: t, Type: simulate.EventTagRemoved, Tag: fmt.Sprintf("t%d", k)}
		case 4:
			e = simulate.Event{At: t, Type: simulate.EventAppointmentBooked, Appointment: &simulate.Appointment{ID: fmt.Sprintf("a%d", i), Start: t.Add(48 * time.Hour)}}
		default:
			e = simulate.Event{At: t, Type: simulate.EventAppointmentCancelled}
		}
		req.Events = append(req.Events, e)
	}
	return req
}

// BenchmarkSimulate runs a 20-workflow location with 1,000 events over 30 days (see
// docs/simulation.md for the numbers and how they were measured).
func BenchmarkSimulate(b *testing.B) {
	loc := benchLocation()
	req := benchRequest(1000)
	res, err := simulate.Run(loc, req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Stats.StepsExecuted), "steps/op")
	b.ReportMetric(float64(len(res.Messages)), "messages/op")
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := simulate.Run(loc, req); err != nil {
			b.Fatal(err)
		}
	}
	// The machines this runs on are shared, so wall time (ns/op) includes waiting for a core; the
	// process's CPU time per run is what the engine itself costs.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
