package importer_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden/")

// checkGolden compares the import of a fixture, marshalled as indented JSON, with its golden file, or
// rewrites the file when -update is set.
func checkGolden(tb testing.TB, name string, res *importer.Result) {
	tb.Helper()
	got, err := json.MarshalIndent(struct {
		Dialect  string             `json:"dialect"`
		Location *analyzer.Location `json:"location"`
		Raw      []json.RawMessage  `json:"raw"`
	}{res.Dialect, res.Location, res.Raw}, "", "  ")
	require.NoError(tb, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".golden.json")
	if *update {
		require.NoError(tb, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(tb, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "golden file missing: run go test ./pkg/analyzer/importer -update")
	require.Equal(tb, string(want), string(got), "golden %s differs; if the change is intended run go test ./pkg/analyzer/importer -update", path)
}

// rawKeys returns the top-level keys of a raw document in the order written.
func rawKeys(tb testing.TB, raw json.RawMessage) []string {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	tok, err := dec.Token()
	require.NoError(tb, err)
	require.Equal(tb, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(tb, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(tb, dec.Decode(&skip))
	}
	return keys
}

func TestBuilderFixtures(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, res *importer.Result)
	}{
		{
			file: "builder-single",
			check: func(t *testing.T, res *importer.Result) {
				loc := res.Location
				require.Equal(t, "Lx7Qh2PzR4mN8vT1aB3c", loc.ID)
				require.False(t, loc.Complete, "one workflow is not the whole location")
				require.Nil(t, loc.Context)
				require.Len(t, loc.Workflows, 1)
				require.Equal(t, []string{"source", "workflow", "triggers"}, rawKeys(t, res.Raw[0]))
				wf := &loc.Workflows[0]
				require.Len(t, wf.Steps, 10, "14 templates less 2 branch nodes and 2 transition markers")
				require.Equal(t, "0b7e5a10-1c2d-4e3f-8a9b-000000000001", wf.Root)
				require.Equal(t, "0b7e5a10-1c2d-4e3f-8a9b-000000000001", wf.Triggers[0].EntryStepID)
				require.False(t, wf.Triggers[1].Active)
				wait := mustStep(t, wf, "0b7e5a10-1c2d-4e3f-8a9b-000000000002")
				require.Equal(t, &analyzer.Duration{Value: 4, Unit: "hours"}, wait.Wait.Timeout)
				cond := mustStep(t, wf, "0b7e5a10-1c2d-4e3f-8a9b-000000000003")
				require.Equal(t, []analyzer.Clause{
					{Subject: "tag", Operator: "eq", Value: "interested"},
					{Subject: "contact.Yx3pL9qW2eR7tZ5vB1nM", Operator: "gte", Value: "9"},
				}, cond.Condition.Branches[0].Clauses)
				require.True(t, mustStep(t, wf, "0b7e5a10-1c2d-4e3f-8a9b-000000000007").Enrollment.BareString)
			},
		},
		{
			file: "builder-bulk",
			check: func(t *testing.T, res *importer.Result) {
				loc := res.Location
				require.Equal(t, "Lx7Qh2PzR4mN8vT1aB3c", loc.ID)
				require.True(t, loc.Complete, "a bulk export is the whole location")
				require.Len(t, loc.Workflows, 3)
				ctx := loc.Context
				require.NotNil(t, ctx)
				require.Equal(t, []analyzer.Object{}, ctx.Surveys, "an empty list means none")
				require.Nil(t, ctx.Templates, "an absent key means unknown")
				require.Equal(t, []analyzer.CustomValue{{ID: "Cv1aB2cD3eF4gH5iJ6kL", Name: "Booking link", Key: "custom_values.booking_link", Value: "https://link.northgate.example/book"}}, ctx.CustomValues)
				require.Equal(t, "contact.nps_score", ctx.CustomFields[0].Key)
				require.Equal(t, &analyzer.SMSCompliance{Enabled: true, AutoAppendOptOut: true, OptOutMessage: "Reply STOP to unsubscribe",
					AppendSenderIdentification: true, SenderIdentification: "Northgate Roofing", ApplyTo: "first_message", ReinsertAfterDays: 30}, ctx.SMSCompliance)
				require.Equal(t, []analyzer.PhoneNumber{{Number: "+15550109900", Name: "Main line", SMS: true, IsDefault: true}}, ctx.PhoneNumbers)
				require.Len(t, ctx.Pipelines[0].Stages, 2)

				deal := mustWorkflow(t, loc, "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f")
				require.Equal(t, "o-find", deal.Root, "listed second, pointed at by nothing")
				require.False(t, deal.Triggers[1].Known)
				require.Equal(t, analyzer.KindUnknown, mustStep(t, deal, "o-linear").Kind)
				require.Nil(t, mustStep(t, deal, "o-wait").Wait.Timeout, "a condition wait with only its primary exit has no timeout")
				require.Equal(t, "o-check", mustStep(t, deal, "o-loop").GotoTarget)

				webinar := mustWorkflow(t, loc, "8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e")
				require.True(t, webinar.Settings.Cloned)
				require.Equal(t, analyzer.StatusDraft, webinar.Status)
				require.Equal(t, analyzer.WaitEventTime, mustStep(t, webinar, "e-wait").Wait.Mode)
				reminders := mustWorkflow(t, loc, "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a")
				require.Equal(t, &analyzer.Offset{When: "before", Minutes: 1440}, mustStep(t, reminders, "r-wait-24").Wait.Offset)
				for _, raw := range res.Raw {
					require.Equal(t, []string{"source", "workflow", "triggers"}, rawKeys(t, raw))
				}
			},
		},
		{
			file: "builder-bare",
			check: func(t *testing.T, res *importer.Result) {
				loc := res.Location
				require.Empty(t, loc.ID, "a bare document has no source or context")
				require.False(t, loc.Complete)
				require.Equal(t, []string{"workflow"}, rawKeys(t, res.Raw[0]))
				wf := &loc.Workflows[0]
				require.Equal(t, "Lx7Qh2PzR4mN8vT1aB3c", wf.LocationID)
				require.Len(t, wf.Triggers, 1, "triggers beside the workflow document")
				require.Equal(t, &analyzer.DND{Channels: []string{"sms"}, Enable: false}, mustStep(t, wf, "x-dnd").DND)
			},
		},
		{
			file: "builder-array",
			check: func(t *testing.T, res *importer.Result) {
				loc := res.Location
				require.Equal(t, "Lx7Qh2PzR4mN8vT1aB3c", loc.ID)
				require.False(t, loc.Complete)
				require.Len(t, loc.Workflows, 2)
				review := mustWorkflow(t, loc, "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b")
				require.True(t, review.Settings.AllowReEntry, `allowMultiple "yes"`)
				require.Equal(t, analyzer.ChannelReview, mustStep(t, review, "v-review").Message.Channel)
				require.Equal(t, []analyzer.Filter{{Field: "opportunity.status", Operator: "eq", Values: []string{"won"}}}, review.Triggers[0].Filters)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := mustParse(t, mustReadFile(t, filepath.Join("testdata", tt.file+".json")))
			require.Equal(t, importer.DialectBuilder, res.Dialect)
			tt.check(t, res)
			checkGolden(t, tt.file, res)
		})
	}
}
