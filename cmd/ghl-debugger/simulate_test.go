package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

// TestSimulateCommand runs the real binary on the auditor's broken sample: a lead who asks for
// pricing at 22:10 gets texts at 00:10 and 03:10 from its "Same Day Push" workflow.
func TestSimulateCommand(t *testing.T) {
	broken := filepath.Join(samples, "broken-account.json")
	dir := t.TempDir()
	contact := filepath.Join(dir, "contact.json")
	require.NoError(t, os.WriteFile(contact, []byte(`{"id":"lead-42","fields":{"first_name":"Ana"},"timezone":"America/New_York"}`), 0o644))
	badContact := filepath.Join(dir, "bad-contact.json")
	require.NoError(t, os.WriteFile(badContact, []byte(`{"timezone":"Mars/Olympus"}`), 0o644))
	typo := filepath.Join(dir, "typo.json")
	require.NoError(t, os.WriteFile(typo, []byte(`{"firstName":"Ana"}`), 0o644))
	eventsArray := filepath.Join(dir, "events.json")
	require.NoError(t, os.WriteFile(eventsArray, []byte(`[
		{"at":"2026-03-02T22:10:00-05:00","type":"form_submitted","form":"Pricing"},
		{"at":"2026-03-02T23:00:00-05:00","type":"customer_replied","text":"STOP"}]`), 0o644))
	request := filepath.Join(dir, "request.json")
	require.NoError(t, os.WriteFile(request, []byte(`{"contact":{"timezone":"America/New_York"},
		"start":{"at":"2026-03-02T22:10:00-05:00","type":"form_submitted","form":"Pricing"},"horizon":"1d"}`), 0o644))
	pricing := "2026-03-02T22:10:00-05:00 form_submitted form=Pricing"

	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "text", args: []string{"simulate", "--contact", contact, "--start", pricing, "--horizon", "2d", broken}, code: 0,
			stdout: []string{"Simulation of contact lead-42 (America/New_York)", "Tue 2026-03-03 03:10 -05:00  sms", "ERROR quiet-hours", "[WD027]", "Trace ("}},
		{name: "markdown", args: []string{"simulate", "--format", "markdown", "--start", pricing, "--horizon", "1d", broken}, code: 0,
			stdout: []string{"# Simulation of the contact", "## Messages", "| Local time | Channel |"}},
		{name: "fail-on error", args: []string{"simulate", "--contact", contact, "--start", pricing, "--fail-on", "error", broken}, code: 1,
			stderr: []string{"at or above --fail-on error"}},
		{name: "the earliest event starts", args: []string{"simulate", "--contact", contact, "--event", "2026-03-02T23:00:00-05:00 customer_replied text=STOP",
			"--event", pricing, "--horizon", "1d", broken}, code: 0,
			stdout: []string{`"STOP" is an opt-out keyword`, "sms not sent: the contact has DND on for sms"}},
		{name: "events file", args: []string{"simulate", "--contact", contact, "--events", eventsArray, "--horizon", "1d", broken}, code: 0,
			stdout: []string{"sms not sent: the contact has DND on for sms"}},
		{name: "request file", args: []string{"simulate", "--events", request, broken}, code: 0,
			stdout: []string{"Compliance SMS - Same Day Push"}},
		{name: "bad event", args: []string{"simulate", "--start", "yesterday form_submitted", broken}, code: 2,
			stderr: []string{"--start", "RFC 3339"}},
		{name: "unknown event type", args: []string{"simulate", "--start", "2026-03-02T22:10:00-05:00 teleported", broken}, code: 2,
			stderr: []string{`unknown event type "teleported"`}},
		{name: "unknown time zone", args: []string{"simulate", "--contact", badContact, "--start", pricing, broken}, code: 2,
			stderr: []string{"contact.timezone", "Mars/Olympus"}},
		{name: "misspelt contact field", args: []string{"simulate", "--contact", typo, "--start", pricing, broken}, code: 2,
			stderr: []string{"typo.json", "firstName"}},
		{name: "over a limit", args: []string{"simulate", "--start", pricing, "--horizon", "400d", broken}, code: 2,
			stderr: []string{"MaxHorizon"}},
		{name: "no start", args: []string{"simulate", broken}, code: 2, stderr: []string{"no event to start with"}},
		{name: "no files", args: []string{"simulate", "--start", pricing}, code: 2, stderr: []string{"no input files"}},
		{name: "help", args: []string{"simulate", "--help"}, code: 0,
			stdout: []string{"Usage: ghl-debugger simulate", "-contact", "-event", "-events", "-horizon", "EVENT is"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tt.args...)
			require.Equal(t, tt.code, code, "stderr:\n%s", stderr)
			for _, s := range tt.stdout {
				require.Contains(t, stdout, s)
			}
			for _, s := range tt.stderr {
				require.Contains(t, stderr, s)
			}
		})
	}
}

// TestSimulateJSONIsDeterministic runs the command twice: the JSON is the engine's result and the
// same bytes both times.
func TestSimulateJSONIsDeterministic(t *testing.T) {
	args := []string{"simulate", "--format", "json", "--start", "2026-03-02T22:10:00-05:00 form_submitted form=Pricing",
		"--account-timezone", "America/Chicago", filepath.Join(samples, "broken-account.json")}
	first, stderr, code := runBinary(t, nil, args...)
	require.Equal(t, 0, code, stderr)
	second, _, _ := runBinary(t, nil, args...)
	require.Equal(t, first, second)
	var res simulate.Result
	require.NoError(t, json.Unmarshal([]byte(first), &res))
	require.NotEmpty(t, res.Messages)
	require.Equal(t, "sms", res.Messages[0].Channel)
}

func TestParseEvent(t *testing.T) {
	at := time.Date(2026, 3, 1, 21, 40, 0, 0, time.FixedZone("", -5*3600))
	for _, tt := range []struct {
		name string
		in   string
		want simulate.Event
		err  string
	}{
		{name: "form with a quoted name", in: `2026-03-01T21:40:00-05:00 form_submitted form="Quote request"`,
			want: simulate.Event{At: at, Type: simulate.EventFormSubmitted, Form: "Quote request"}},
		{name: "booking", in: "2026-03-01T21:40:00-05:00 appointment_booked appointment=a1 calendar=c1 start=2026-03-05T15:00:00-05:00",
			want: simulate.Event{At: at, Type: simulate.EventAppointmentBooked, Appointment: &simulate.Appointment{ID: "a1", CalendarID: "c1",
				Start: time.Date(2026, 3, 5, 15, 0, 0, 0, time.FixedZone("", -5*3600))}}},
		{name: "attributes", in: `2026-03-01T21:40:00-05:00 trigger trigger=order_submitted product="Gold \"Plus\""`,
			want: simulate.Event{At: at, Type: simulate.EventTrigger, Trigger: "order_submitted", Attributes: map[string]string{"product": `Gold "Plus"`}}},
		{name: "no type", in: "2026-03-01T21:40:00-05:00", err: "TIME TYPE"},
		{name: "not key=value", in: "2026-03-01T21:40:00-05:00 tag_added vip", err: "key=value"},
		{name: "unclosed quote", in: `2026-03-01T21:40:00-05:00 tag_added tag="vip`, err: "unclosed quote"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvent(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.True(t, got.At.Equal(tt.want.At))
			got.At = tt.want.At
			if got.Appointment != nil && tt.want.Appointment != nil {
				require.True(t, got.Appointment.Start.Equal(tt.want.Appointment.Start))
				got.Appointment.Start = tt.want.Appointment.Start
			}
			require.Equal(t, tt.want, got)
		})
	}
}
