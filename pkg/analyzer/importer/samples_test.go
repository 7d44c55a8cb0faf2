package importer_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// samplesDir is the open-source auditor's public sample data (MIT, see its LICENSE), kept with the
// analyzer's test data.
const samplesDir = "../testdata/samples/ghl-workflow-auditor"

// mustSampleFiles lists the sample bundles: the two accounts and every pack.
func mustSampleFiles(tb testing.TB) []string {
	tb.Helper()
	_, err := os.Stat(samplesDir)
	require.NoError(tb, err, "the sample data must sit at %s", samplesDir)
	packs, err := filepath.Glob(filepath.Join(samplesDir, "packs", "*.json"))
	require.NoError(tb, err)
	require.Len(tb, packs, 8)
	sort.Strings(packs)
	return append([]string{filepath.Join(samplesDir, "base-account.json"), filepath.Join(samplesDir, "broken-account.json")}, packs...)
}

func TestSamples(t *testing.T) {
	facts := map[string]func(t *testing.T, res *importer.Result){
		"base-account.json": func(t *testing.T, res *importer.Result) {
			loc := res.Location
			require.Len(t, loc.Workflows, 24)
			ctx := loc.Context
			require.Equal(t, []string{"hot-lead", "nurture-me", "reactivate", "job-complete", "vip"}, ctx.Tags)
			require.Equal(t, []analyzer.CustomValue{
				{Name: "booking_link", Key: "custom_values.booking_link", Value: ""},
				{Name: "office_phone", Key: "custom_values.office_phone", Value: "(555) 010-9900"},
				{Name: "review_link", Key: "custom_values.review_link", Value: "REPLACE-WITH-CLIENT-GOOGLE-ID"},
			}, ctx.CustomValues)
			require.Equal(t, []analyzer.Object{{ID: "tpl_welcome", Name: "Welcome"}}, ctx.Templates)
			require.Nil(t, ctx.Surveys)
			require.Nil(t, ctx.SMSCompliance)

			speed := mustWorkflow(t, loc, "wf_speed")
			require.Equal(t, []string{`s1 -next-> "s2"`, `s2 -next-> "s3"`, `s3 -next-> "s4"`, `s4 -next-> "s9missing"`}, edgeStrings(speed))
			require.Equal(t, "s1", speed.Root)
			require.Equal(t, &analyzer.Wait{Mode: analyzer.WaitReply}, mustStep(t, speed, "s2").Wait, "waits for a reply with no timeout")
			require.True(t, speed.Settings.AllowReEntry)
			require.Equal(t, []analyzer.Filter{{Field: "form.id", Operator: "eq", Values: []string{"form_intake"}}}, speed.Triggers[0].Filters)

			intake := mustWorkflow(t, loc, "wf_intake")
			require.Equal(t, `step-1 -else[None|]-> ""`, edgeStrings(intake)[1], "the declared-empty None branch")
			require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefCalendar, ID: "cal_deleted_2024"}}, mustStep(t, intake, "step-3").Refs)

			orders := mustWorkflow(t, loc, "wf_order_intake")
			require.Equal(t, "step-3", mustStep(t, orders, "step-5").GotoTarget, "go-to by step name")

			reminders := mustWorkflow(t, loc, "wf_reminders")
			require.Equal(t, analyzer.TriggerCustomerAppointment, reminders.Triggers[0].Type)
			require.Equal(t, &analyzer.TimeWindow{Start: "09:00", End: "20:00"}, reminders.Settings.TimeWindow)

			stageA, stageB := mustWorkflow(t, loc, "wf_stage_a"), mustWorkflow(t, loc, "wf_stage_b")
			require.Equal(t, "stg_new", mustStep(t, stageA, "step-1").Opportunity.StageID)
			require.Equal(t, []analyzer.Filter{{Field: "pipeline.stage.id", Operator: "eq", Values: []string{"stg_new"}}}, stageB.Triggers[0].Filters)

			gateway := mustWorkflow(t, loc, "wf_n8n_gateway")
			for _, s := range gateway.Steps {
				require.Equal(t, analyzer.KindUnknown, s.Kind)
			}
			require.Equal(t, analyzer.StatusDraft, mustWorkflow(t, loc, "wf_referral").Status)
		},
		"broken-account.json": func(t *testing.T, res *importer.Result) {
			loc := res.Location
			require.Len(t, loc.Workflows, 76)
			require.Len(t, loc.Context.Calendars, 2, "base plus the calendar pack's")

			guard := mustWorkflow(t, loc, "wf_cs_guard_swallows")
			require.Equal(t, []string{
				`G-cs -branch[Already engaged - conversation is live|B1-cs]-> "B1-note"`,
				`G-cs -else[Live lead - AI reads the reply|B2-cs]-> "B2-arm"`,
				`B2-arm -next-> "B2-optout"`,
				`B2-optout -next-> "B2-stop"`,
			}, edgeStrings(guard))

			tree := mustWorkflow(t, loc, "wf_scale_intake_tree")
			require.Equal(t, []string{
				`t1 -branch[Yes|]-> "t2"`, `t1 -else[None|]-> ""`,
				`t2 -branch[Yes|]-> "t3"`, `t2 -else[None|]-> ""`,
				`t3 -branch[Yes|]-> "t4"`, `t3 -else[None|]-> ""`,
				`t4 -branch[Yes|]-> "t5"`, `t4 -else[None|]-> ""`,
			}, edgeStrings(tree))

			dormant := mustWorkflow(t, loc, "di-dormant-reactivation")
			require.Equal(t, analyzer.KindDND, dormant.Steps[0].Kind)
			require.False(t, dormant.Steps[0].DND.Enable)

			backwards := mustWorkflow(t, loc, "wf_cb_backwards")
			require.Equal(t, 60, backwards.Steps[0].Wait.Offset.Minutes)
			require.Equal(t, 1440, backwards.Steps[2].Wait.Offset.Minutes)

			retry := mustWorkflow(t, loc, "wf_scale_inventory_retry")
			require.Contains(t, edgeStrings(retry), `r4 -goto-> "r1"`)
			require.Equal(t, []analyzer.Header{{Key: "Idempotency-Key", Value: "{{ contact.id }}-{{ inboundWebhookRequest.order_id }}"}}, mustStep(t, retry, "r1").Webhook.Headers)

			feeder := mustWorkflow(t, loc, "wf_scale_winback_feeder")
			require.Equal(t, []string{"wf_scale_winback_closer"}, mustStep(t, feeder, "step-2").Enrollment.WorkflowIDs)
		},
		"ai_safety.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 5)
			require.Nil(t, res.Location.Context, "the pack describes no location objects")
			q := mustWorkflow(t, res.Location, "wf_aisafety_qualifier")
			require.Len(t, q.Steps[1].Fields, 2)
		},
		"calendar_booking.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 8)
			ctx := res.Location.Context
			require.Equal(t, []analyzer.Object{{ID: "CVokAlI8fgw4WYWoCtQz", Name: "Calendar Booking Demo - Strategy Call"}}, ctx.Calendars)
			require.Nil(t, ctx.Users, "only the keys the pack has are known")
			screen := mustWorkflow(t, res.Location, "wf_cb_screen_denies")
			require.Equal(t, []analyzer.Filter{
				{Field: "calendar.id", Operator: "eq", Values: []string{"CVokAlI8fgw4WYWoCtQz"}},
				{Field: "appointment.status", Operator: "eq", Values: []string{"confirmed"}},
			}, screen.Triggers[0].Filters)
		},
		"compliance_sms.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 9)
			overnight := mustWorkflow(t, res.Location, "wf_cs_overnight")
			require.Equal(t, "contact", overnight.Settings.Timezone)
			require.Equal(t, &analyzer.TimeWindow{Start: "07:00", End: "22:00"}, overnight.Settings.TimeWindow)
		},
		"data_integrity.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 3)
			require.Len(t, res.Location.Context.CustomFields, 4)
		},
		"deliverability_email.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 5)
			require.Nil(t, res.Location.Context, "email domains and settings are not location context")
			news := mustWorkflow(t, res.Location, "wf_deliv_newsletter")
			require.True(t, news.Settings.StopOnResponse, "a wait that stops on response")
		},
		"observability.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 7)
			require.Equal(t, []analyzer.Object{{ID: "usr_obs_morgan", Name: "Morgan Ellis"}}, res.Location.Context.Users)
			fulfil := mustWorkflow(t, res.Location, "wf_obs_fulfilment")
			require.Equal(t, "push", fulfil.Root)
			require.Contains(t, edgeStrings(fulfil), `step-4 -goto-> "push"`)
		},
		"revenue_lifecycle.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 5)
			require.Equal(t, []analyzer.CustomValue{{Name: "RL Booking Link", Key: "custom_values.rl_booking_link", Value: "https://calendar.example-client.com/rl-consult"}}, res.Location.Context.CustomValues)
			vendor := mustWorkflow(t, res.Location, "rl-vendor-lead-intake")
			require.True(t, vendor.Steps[5].Opportunity.Legacy)
		},
		"scale_performance.json": func(t *testing.T, res *importer.Result) {
			require.Len(t, res.Location.Workflows, 10)
			runaway := mustWorkflow(t, res.Location, "wf_scale_quote_runaway")
			require.Equal(t, []string{`q1 -next-> "q2"`, `q2 -branch[Yes|]-> "q3"`, `q2 -else[None|]-> "q3"`, `q3 -next-> "q4"`, `q4 -goto-> "q1"`}, edgeStrings(runaway))
		},
	}
	for _, path := range mustSampleFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			res := mustParse(t, mustReadFile(t, path))
			require.Equal(t, importer.DialectBundle, res.Dialect)
			require.True(t, res.Location.Complete)
			check, ok := facts[name]
			require.True(t, ok, "no facts for %s", name)
			check(t, res)
		})
	}
}

// TestSamplesBrokenIsBasePlusPacks checks that importing the base account and every pack and merging
// them gives the broken account's workflows exactly: the importer depends only on each workflow.
func TestSamplesBrokenIsBasePlusPacks(t *testing.T) {
	files := mustSampleFiles(t)
	var parts []*importer.Result
	for _, path := range append(files[:1:1], files[2:]...) {
		parts = append(parts, mustParse(t, mustReadFile(t, path)))
	}
	merged := importer.Merge(parts...)
	broken := mustParse(t, mustReadFile(t, files[1]))
	require.Equal(t, broken.Location.Workflows, merged.Location.Workflows)
	// The files escape non-ASCII text differently (\u2014 against a literal dash), so the raw documents
	// are compared as JSON.
	require.Len(t, merged.Raw, len(broken.Raw))
	for i := range broken.Raw {
		require.JSONEq(t, string(broken.Raw[i]), string(merged.Raw[i]))
	}
	require.Equal(t, importer.DialectBundle, merged.Dialect)
}

func TestSamplesAuditConfigIsNotAnInput(t *testing.T) {
	// audit-config.json is the auditor's policy file, not a bundle: it is refused with a clear error.
	perr := mustParseError(t, mustReadFile(t, filepath.Join(samplesDir, "audit-config.json")))
	require.Equal(t, "$", perr.Path)
	require.Contains(t, perr.Message, "unknown input dialect")
}
