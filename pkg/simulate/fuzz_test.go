package simulate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/simulate"
)

// fuzzLimits keep each fuzzed run short.
var fuzzLimits = simulate.Limits{MaxSteps: 20000, MaxEvents: 200, MaxWorkflowsEntered: 500}

// FuzzSimulate runs the engine on arbitrary locations and requests (as JSON): it never panics,
// fails only with an *InputError or a *LimitError, stays within its limits, and gives the same
// bytes twice. The seeds are the scenario table's locations and requests.
func FuzzSimulate(f *testing.F) {
	for _, sc := range scenarios() {
		loc, err := json.Marshal(sc.loc)
		if err != nil {
			f.Fatal(err)
		}
		req, err := json.Marshal(sc.req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(loc, req)
	}
	f.Fuzz(func(t *testing.T, locJSON, reqJSON []byte) {
		var loc analyzer.Location
		var req simulate.Request
		if json.Unmarshal(locJSON, &loc) != nil || json.Unmarshal(reqJSON, &req) != nil {
			return
		}
		res, err := simulate.RunWithLimits(&loc, req, fuzzLimits)
		if err != nil {
			var ie *simulate.InputError
			var le *simulate.LimitError
			if !errors.As(err, &ie) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if res.Stats.StepsExecuted > fuzzLimits.MaxSteps || res.Stats.WorkflowsEntered > fuzzLimits.MaxWorkflowsEntered {
			t.Fatalf("over the limits: %+v", res.Stats)
		}
		if len(res.Messages) > res.Stats.StepsExecuted {
			t.Fatalf("%d messages from %d steps", len(res.Messages), res.Stats.StepsExecuted)
		}
		for i, te := range res.Trace {
			if te.Seq != i+1 || te.At.Before(res.Start) || te.At.After(res.End) {
				t.Fatalf("trace entry %d out of order or outside the horizon: %+v", i, te)
			}
		}
		again, err := simulate.RunWithLimits(&loc, req, fuzzLimits)
		if err != nil {
			t.Fatalf("second run failed: %v", err)
		}
		var a, b bytes.Buffer
		if err := simulate.Write(&a, res, analyzer.FormatJSON); err != nil {
			t.Fatal(err)
		}
		if err := simulate.Write(&b, again, analyzer.FormatJSON); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two runs give different results")
		}
	})
}
