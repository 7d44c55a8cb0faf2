package simulate_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// brokenSample is the open-source auditor's sample location whose workflows are seeded with
// defects (see /work/shared/samples/ghl-workflow-auditor/README.md); a copy lives in the analyzer's
// testdata.
func mustBrokenSample(tb testing.TB) *analyzer.Location {
	tb.Helper()
	for _, p := range []string{
		filepath.Join("..", "analyzer", "testdata", "samples", "ghl-workflow-auditor", "broken-account.json"),
		"/work/shared/samples/ghl-workflow-auditor/broken-account.json",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		res, err := importer.Parse(data, importer.DefaultOptions())
		if err != nil {
			tb.Fatalf("import %s: %v", p, err)
		}
		return res.Location
	}
	tb.Skip("the broken sample location is not available")
	return nil
}

// sampleStart is a weeknight lead: 22:10 in New York on Monday 2 March 2026.
var sampleStart = time.Date(2026, 3, 2, 22, 10, 0, 0, mustZone("America/New_York"))

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// sampleRequest enters one contact through trigger t. Every appointment booked is cancelled the
// next morning, so reminders that survive a cancellation show.
func sampleRequest(t *analyzer.Trigger) simulate.Request {
	evs := simulate.TriggerEvents(t, sampleStart)
	req := simulate.Request{
		Contact: simulate.Contact{ID: "lead-1", Timezone: "America/New_York",
			Fields: map[string]string{"first_name": "Ana", "email": "ana@example.com", "phone": "+13125550142"}},
		Start:           evs[0],
		Horizon:         "7d",
		Events:          evs[1:],
		AccountTimezone: "America/Chicago",
	}
	if evs[0].Type == simulate.EventAppointmentBooked && len(evs) == 1 {
		req.Events = append(req.Events, simulate.Event{At: sampleStart.Add(11 * time.Hour), Type: simulate.EventAppointmentCancelled,
			Appointment: &simulate.Appointment{ID: evs[0].Appointment.ID}})
	}
	return req
}

// TestBrokenSample simulates one contact entering through each trigger of the broken sample and
// checks that the defects a contact would feel show in the runs: a loop stopped by loop
// protection, a 3 a.m. text and a reminder after a cancellation. The per-trigger summary is the
// golden file testdata/broken-sample.txt (refresh with -update), which docs/simulation.md quotes.
func TestBrokenSample(t *testing.T) {
	loc := mustBrokenSample(t)
	var sum bytes.Buffer
	felt := map[string]bool{}
	for _, wf := range loc.Workflows {
		if wf.Status != analyzer.StatusPublished {
			continue
		}
		for i := range wf.Triggers {
			tr := &wf.Triggers[i]
			if !tr.Active {
				continue
			}
			req := sampleRequest(tr)
			res, err := simulate.Run(loc, req)
			if err != nil {
				t.Fatalf("%s trigger %s: %v", wf.ID, tr.Type, err)
			}
			fmt.Fprintf(&sum, "%s (%s): %d messages, %d workflow runs, %d assumptions, %d steps\n",
				wf.ID, strings.TrimPrefix(describe(req.Start), ""), len(res.Messages), res.Stats.WorkflowsEntered, len(res.Assumptions), res.Stats.StepsExecuted)
			for _, f := range res.Findings {
				rule := ""
				if f.RuleID != "" {
					rule = " [" + f.RuleID + "]"
				}
				fmt.Fprintf(&sum, "  %s %s %s %s%s: %s\n", f.Severity, f.Kind, f.Local[11:16], f.WorkflowID, rule, f.Detail)
				switch {
				case f.Kind == simulate.FindingLoopProtection:
					felt["loop"] = true
				case f.Kind == simulate.FindingQuietHours && strings.HasPrefix(f.Local[11:], "03:"):
					felt["3am"] = true
				case f.Kind == simulate.FindingAfterCancel:
					felt["after-cancel"] = true
				}
			}
		}
	}
	// A contact who opted out of texts, whose deal is then marked lost: the reactivation workflow
	// turns DND off and texts them.
	for _, wf := range loc.Workflows {
		if wf.ID != "di-dormant-reactivation" {
			continue
		}
		req := sampleRequest(&wf.Triggers[0])
		req.Contact.DND = []string{"sms"}
		res, err := simulate.Run(loc, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			if f.Kind == simulate.FindingAfterOptOut && f.RuleID == "WD032" {
				felt["after-opt-out"] = true
			}
		}
	}
	for _, want := range []string{"loop", "3am", "after-cancel", "after-opt-out"} {
		if !felt[want] {
			t.Errorf("no simulation of the broken sample shows %s", want)
		}
	}
	golden := filepath.Join("testdata", "broken-sample.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, sum.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(want, sum.Bytes()) {
		t.Errorf("summary differs from %s (run go test ./pkg/simulate -run TestBrokenSample -update):\n%s", golden, sum.String())
	}
}

func describe(ev simulate.Event) string {
	switch {
	case ev.Form != "":
		return ev.Type + " " + ev.Form
	case ev.Tag != "":
		return ev.Type + " " + ev.Tag
	case ev.Trigger != "":
		return ev.Type + " " + ev.Trigger
	case ev.StageID != "":
		return ev.Type + " " + ev.StageID
	case ev.Status != "":
		return ev.Type + " " + ev.Status
	}
	return ev.Type
}
