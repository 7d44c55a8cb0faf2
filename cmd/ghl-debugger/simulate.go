package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

// eventFlags collects repeated --event flags.
type eventFlags []string

// String lists the events given, for flag's help.
func (e *eventFlags) String() string { return strings.Join(*e, "; ") }

// Set adds one --event.
func (e *eventFlags) Set(v string) error { *e = append(*e, v); return nil }

// simulateSynopsis is the command's help: its flags and the --event syntax.
var simulateSynopsis = "ghl-debugger simulate [--contact contact.json] [--start EVENT] [--event EVENT]... [--events events.json] " +
	"[--horizon 30d] [--account-timezone ZONE] [--format text|markdown|json] [--fail-on error|warning|info|none] FILE...\n\n" +
	"EVENT is \"TIME TYPE [key=value]...\": TIME in RFC 3339 with its offset, TYPE one of\n  " +
	strings.Join(simulate.EventTypes, ", ") + ",\n" +
	"keys form, tag, text, channel, appointment (its id), calendar, start (the appointment's time), status,\n" +
	"pipeline, stage, field, value, link, trigger; any other key is an attribute matched against trigger\n" +
	"filters. Quote values with spaces: form=\"Quote request\". Examples:\n" +
	"  --start '2026-03-01T21:40:00-05:00 form_submitted form=\"Quote request\"'\n" +
	"  --event '2026-03-02T08:15:00-05:00 customer_replied text=STOP'\n" +
	"  --event '2026-03-02T11:00:00-05:00 appointment_booked appointment=a1 start=2026-03-05T15:00:00-05:00'\n" +
	"Without --start the earliest event starts the simulation. --events reads a JSON array of events, or a\n" +
	"whole request ({contact, start, events, horizon, accountTimezone}) that the other flags override."

// runSimulate is the simulate subcommand: every FILE is read as part of one location, the contact is
// run through its published workflows, and the result is printed on stdout.
func runSimulate(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("simulate", simulateSynopsis, stdout)
	contactFile := fs.String("contact", "", "JSON file with the contact: fields, tags, timezone, dnd, appointments, opportunities")
	start := fs.String("start", "", "the event that starts the simulation (see EVENT)")
	var events eventFlags
	fs.Var(&events, "event", "a later event (repeatable; see EVENT)")
	eventsFile := fs.String("events", "", "JSON file with events, or a whole simulation request")
	horizon := fs.String("horizon", "", "how long to simulate after the start: days, hours, minutes such as 30d, 36h, 1d12h (default 30d)")
	accountZone := fs.String("account-timezone", "", "the location's IANA time zone (default UTC)")
	format := fs.String("format", analyzer.FormatText, "output format: "+strings.Join(analyzer.Formats, ", "))
	failOn := fs.String("fail-on", failOnNone, "exit 1 when a finding has this severity or worse: error, warning, info, none")
	if err := fs.Parse(args); err != nil {
		return fs.parseError(err)
	}
	if !slices.Contains(analyzer.Formats, *format) {
		return usagef("simulate: --format %q: want one of %s", *format, strings.Join(analyzer.Formats, ", "))
	}
	threshold := analyzer.SeverityRank(*failOn)
	if threshold == 0 && *failOn != failOnNone {
		return usagef("simulate: --fail-on %q: want error, warning, info or none", *failOn)
	}
	if fs.NArg() == 0 {
		return usagef("simulate: no input files (give one or more FILEs, or - for standard input)")
	}

	var req simulate.Request
	if *eventsFile != "" {
		if err := readEventsFile(*eventsFile, stdin, &req); err != nil {
			return inputError{err}
		}
	}
	if *contactFile != "" {
		data, display, err := readInput(*contactFile, stdin)
		if err != nil {
			return inputError{err}
		}
		var c simulate.Contact
		if err := strictJSON(data, &c); err != nil {
			return inputError{fmt.Errorf("%s: %w", display, err)}
		}
		req.Contact = c
	}
	if *start != "" {
		ev, err := parseEvent(*start)
		if err != nil {
			return usagef("simulate: --start: %v", err)
		}
		if !req.Start.At.IsZero() {
			req.Events = append(req.Events, req.Start)
		}
		req.Start = ev
	}
	for _, s := range events {
		ev, err := parseEvent(s)
		if err != nil {
			return usagef("simulate: --event %q: %v", s, err)
		}
		req.Events = append(req.Events, ev)
	}
	if req.Start.At.IsZero() {
		if len(req.Events) == 0 {
			return usagef("simulate: no event to start with (give --start, --event or --events)")
		}
		// The earliest event starts the simulation; the others keep their order.
		first := 0
		for i, ev := range req.Events {
			if ev.At.Before(req.Events[first].At) {
				first = i
			}
		}
		req.Start = req.Events[first]
		req.Events = slices.Delete(req.Events, first, first+1)
	}
	if *horizon != "" {
		req.Horizon = *horizon
	}
	if *accountZone != "" {
		req.AccountTimezone = *accountZone
	}

	opts := importer.DefaultOptions()
	opts.MaxContextObjects = maxAnalyzeContextObjects
	results := make([]*importer.Result, 0, fs.NArg())
	for _, name := range fs.Args() {
		data, display, err := readInput(name, stdin)
		if err != nil {
			return inputError{err}
		}
		res, err := importer.Parse(data, opts)
		if err != nil {
			return inputError{fmt.Errorf("%s: %w", display, err)}
		}
		results = append(results, res)
	}
	res, err := simulate.Run(importer.Merge(results...).Location, req)
	var ie *simulate.InputError
	var le *simulate.LimitError
	switch {
	case errors.As(err, &ie):
		return usagef("simulate: %v", err)
	case errors.As(err, &le):
		return inputError{fmt.Errorf("simulate: %w", err)}
	case err != nil:
		return fmt.Errorf("simulate: %w", err)
	}
	if err := simulate.Write(stdout, res, *format); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if threshold == 0 {
		return nil
	}
	n := 0
	for _, f := range res.Findings {
		if analyzer.SeverityRank(f.Severity) >= threshold {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("simulate: %d %s at or above --fail-on %s", n, plural(n, "finding"), *failOn)
	}
	return nil
}

// strictJSON decodes data into v, refusing unknown keys so a misspelt field is not silently
// ignored.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// readEventsFile reads --events: a JSON array of events, or a whole request.
func readEventsFile(name string, stdin io.Reader, req *simulate.Request) error {
	data, display, err := readInput(name, stdin)
	if err != nil {
		return err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var evs []simulate.Event
		if err := strictJSON(data, &evs); err != nil {
			return fmt.Errorf("%s: %w", display, err)
		}
		req.Events = append(req.Events, evs...)
		return nil
	}
	if err := strictJSON(data, req); err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	return nil
}

// parseEvent reads "TIME TYPE [key=value]...".
func parseEvent(s string) (simulate.Event, error) {
	words, err := splitWords(s)
	if err != nil {
		return simulate.Event{}, err
	}
	if len(words) < 2 {
		return simulate.Event{}, fmt.Errorf("want \"TIME TYPE [key=value]...\"")
	}
	at, err := time.Parse(time.RFC3339, words[0])
	if err != nil {
		return simulate.Event{}, fmt.Errorf("time %q: want RFC 3339 with an offset, such as 2026-03-01T21:40:00-05:00", words[0])
	}
	ev := simulate.Event{At: at, Type: words[1]}
	if !slices.Contains(simulate.EventTypes, ev.Type) {
		return simulate.Event{}, fmt.Errorf("unknown event type %q (want one of %s)", ev.Type, strings.Join(simulate.EventTypes, ", "))
	}
	appt := func() *simulate.Appointment {
		if ev.Appointment == nil {
			ev.Appointment = &simulate.Appointment{}
		}
		return ev.Appointment
	}
	for _, w := range words[2:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return simulate.Event{}, fmt.Errorf("%q: want key=value", w)
		}
		switch k {
		case "form", "survey":
			ev.Form = v
		case "tag":
			ev.Tag = v
		case "text":
			ev.Text = v
		case "channel":
			ev.Channel = v
		case "appointment":
			appt().ID = v
		case "calendar":
			appt().CalendarID = v
		case "start":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return simulate.Event{}, fmt.Errorf("start %q: want RFC 3339 with an offset", v)
			}
			appt().Start = t
		case "status":
			ev.Status = v
		case "pipeline":
			ev.PipelineID = v
		case "stage":
			ev.StageID = v
		case "field":
			ev.Field = v
		case "value":
			ev.Value = v
		case "link":
			ev.Link = v
		case "trigger":
			ev.Trigger = v
		default:
			if ev.Attributes == nil {
				ev.Attributes = map[string]string{}
			}
			ev.Attributes[k] = v
		}
	}
	return ev, nil
}

// splitWords splits s at spaces, keeping double-quoted parts (with \" and \\ escapes) together.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
