package simulate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

func mustWrite(tb testing.TB, res *simulate.Result, format string) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := simulate.Write(&b, res, format); err != nil {
		tb.Fatalf("Write %s: %v", format, err)
	}
	return b.Bytes()
}

// TestDeterministic runs every scenario and the broken sample twice and compares the bytes of
// every output format.
func TestDeterministic(t *testing.T) {
	type run struct {
		name string
		loc  *analyzer.Location
		req  simulate.Request
	}
	var runs []run
	for _, sc := range scenarios() {
		runs = append(runs, run{sc.name, sc.loc, sc.req})
	}
	sample := mustBrokenSample(t)
	for _, wf := range sample.Workflows[:20] {
		for i := range wf.Triggers {
			runs = append(runs, run{wf.ID, sample, sampleRequest(&wf.Triggers[i])})
		}
	}
	for _, r := range runs {
		for _, format := range analyzer.Formats {
			a, err := simulate.Run(r.loc, r.req)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			b, err := simulate.Run(r.loc, r.req)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if !bytes.Equal(mustWrite(t, a, format), mustWrite(t, b, format)) {
				t.Errorf("%s: two runs give different %s output", r.name, format)
			}
		}
	}
}

func TestWriteFormats(t *testing.T) {
	sc := scenarios()[0]
	res, err := simulate.Run(sc.loc, sc.req)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		format string
		want   []string
	}{
		{name: "text", format: analyzer.FormatText, want: []string{
			"Simulation of contact lead-1 (America/New_York)",
			"Sun 2026-03-01 21:40 -05:00  sms      Quote / s1",
			"Hi Ana, thanks for the quote request.",
			"WARN  quiet-hours",
		}},
		{name: "markdown", format: analyzer.FormatMarkdown, want: []string{
			"# Simulation of contact lead-1",
			"| Sun 2026-03-01 21:40 -05:00 | sms | Quote | s1 | Hi Ana, thanks for the quote request. |",
			"## Trace",
		}},
		{name: "json", format: analyzer.FormatJSON, want: []string{`"messages": [`, `"local": "2026-03-01T21:40:00-05:00"`, `"stepsExecuted": 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(mustWrite(t, res, tt.format))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output has no %q:\n%s", w, out)
				}
			}
		})
	}
	if err := simulate.Write(&bytes.Buffer{}, res, "yaml"); err == nil {
		t.Error("Write accepted an unknown format")
	}
	var round simulate.Result
	if err := json.Unmarshal(mustWrite(t, res, analyzer.FormatJSON), &round); err != nil {
		t.Fatalf("the JSON output does not read back: %v", err)
	}
}

func TestLimits(t *testing.T) {
	spin := location(flow("wait", analyzer.Settings{AllowReEntry: true}, trig(analyzer.TriggerFormSubmitted), sms("s1", "Hi"), delay("d1", 5, "minutes"), goTo("g1", "s1")))
	start := form("2026-03-02T10:00:00-05:00", "Any")
	many := make([]simulate.Event, 20)
	for i := range many {
		many[i] = form("2026-03-02T11:00:00-05:00", "Any")
	}
	tests := []struct {
		name  string
		req   simulate.Request
		lim   simulate.Limits
		limit string
	}{
		{name: "horizon", req: simulate.Request{Start: start, Horizon: "400d"}, limit: simulate.LimitHorizon},
		{name: "events", req: simulate.Request{Start: start, Events: many}, lim: simulate.Limits{MaxEvents: 10}, limit: simulate.LimitEvents},
		{name: "steps", req: simulate.Request{Start: start}, lim: simulate.Limits{MaxSteps: 1000}, limit: simulate.LimitSteps},
		{name: "workflows entered", req: simulate.Request{Start: start, Events: many}, lim: simulate.Limits{MaxWorkflowsEntered: 5}, limit: simulate.LimitWorkflowsEntered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := spin
			if tt.limit == simulate.LimitWorkflowsEntered {
				loc = location(flow("once", analyzer.Settings{AllowReEntry: true}, trig(analyzer.TriggerFormSubmitted), sms("s1", "Hi")))
			}
			_, err := simulate.RunWithLimits(loc, tt.req, tt.lim)
			var le *simulate.LimitError
			if !errors.As(err, &le) || le.Limit != tt.limit {
				t.Fatalf("got %v, want a limit error naming %s", err, tt.limit)
			}
			if !strings.Contains(err.Error(), tt.limit) {
				t.Errorf("the error %q does not name %s", err, tt.limit)
			}
		})
	}
	t.Run("within limits", func(t *testing.T) {
		res, err := simulate.Run(spin, simulate.Request{Start: start})
		if err != nil {
			t.Fatal(err)
		}
		// Every five minutes for 30 days: 8,640 laps, which GHL's loop protection never catches.
		if n := len(res.Messages); n != 8641 {
			t.Errorf("got %d messages, want 8641", n)
		}
	})
}

func TestInputErrors(t *testing.T) {
	loc := location(flow("quote", analyzer.Settings{}, trig(analyzer.TriggerFormSubmitted), sms("s1", "Hi")))
	start := form("2026-03-02T10:00:00-05:00", "Any")
	tests := []struct {
		name  string
		req   simulate.Request
		field string
	}{
		{name: "unknown contact zone", req: simulate.Request{Start: start, Contact: simulate.Contact{Timezone: "Mars/Olympus"}}, field: "contact.timezone"},
		{name: "unknown account zone", req: simulate.Request{Start: start, AccountTimezone: "Local"}, field: "accountTimezone"},
		{name: "event before start", req: simulate.Request{Start: start, Events: []simulate.Event{form("2026-03-01T10:00:00-05:00", "Any")}}, field: "events[0].at"},
		{name: "unknown event type", req: simulate.Request{Start: ev("2026-03-02T10:00:00-05:00", "teleported")}, field: "start.type"},
		{name: "no start time", req: simulate.Request{Start: simulate.Event{Type: simulate.EventContactCreated}}, field: "start.at"},
		{name: "booking without a start", req: simulate.Request{Start: ev("2026-03-02T10:00:00-05:00", simulate.EventAppointmentBooked)}, field: "start.appointment.start"},
		{name: "bad horizon", req: simulate.Request{Start: start, Horizon: "soon"}, field: "horizon"},
		{name: "start past the years the engine holds", req: simulate.Request{Start: form("2300-03-02T10:00:00-05:00", "Any")}, field: "start.at"},
		{name: "event past the years the engine holds", req: simulate.Request{Start: start, Events: []simulate.Event{form("2263-01-01T10:00:00-05:00", "Any")}}, field: "events[0].at"},
		{name: "start before 1900", req: simulate.Request{Start: form("1850-03-02T10:00:00-05:00", "Any")}, field: "start.at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := simulate.Run(loc, tt.req)
			var ie *simulate.InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("got %v, want an input error about %s", err, tt.field)
			}
		})
	}
}

func TestParseHorizon(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", simulate.DefaultHorizon, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"2h30m", 150 * time.Minute, true},
		{"0d", 0, false},
		{"12h1d", 0, false},
		{"d", 0, false},
		{"-1d", 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := simulate.ParseHorizon(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Errorf("ParseHorizon(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestTriggerEventsEnterTheirWorkflow(t *testing.T) {
	tests := []struct {
		name string
		t    analyzer.Trigger
	}{
		{name: "form", t: trig(analyzer.TriggerFormSubmitted, filter("form.id", "eq", "f1"))[0]},
		{name: "tag", t: trig(analyzer.TriggerContactTag, filter("tag", "eq", "vip"))[0]},
		{name: "no-show", t: trig(analyzer.TriggerAppointment, filter("appointment.status", "eq", "noshow"))[0]},
		{name: "cancelled", t: trig(analyzer.TriggerAppointment, filter("appointment.status", "eq", "cancelled"))[0]},
		{name: "stage", t: trig(analyzer.TriggerPipelineStage, filter("pipeline.stage.id", "eq", "s2"))[0]},
		{name: "won", t: trig(analyzer.TriggerOpportunityStatus, filter("opportunity.status", "eq", "won"))[0]},
		{name: "contact changed", t: trig(analyzer.TriggerContactChanged, filter("contact.budget", "has_changed"))[0]},
		{name: "other type", t: analyzer.Trigger{Type: "invoice_paid", RawType: "invoice_paid", Active: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := location(flow("target", analyzer.Settings{}, []analyzer.Trigger{tt.t}, email("e1", "Hi", "Hi")))
			evs := simulate.TriggerEvents(&tt.t, at("2026-03-02T10:00:00-05:00"))
			res, err := simulate.Run(loc, simulate.Request{Start: evs[0], Events: evs[1:]})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) != 1 {
				t.Errorf("got %d messages, want 1: the events do not enter the workflow\n%s", len(res.Messages), strings.Join(traceLines(res), "\n"))
			}
		})
	}
}
