package analyzer

import (
	"fmt"
	"slices"
	"strings"
)

// Trigger rules: how contacts start a workflow, judged on the workflow and, where the rule says so,
// on the location graph (locgraph.go) and the location context. Only active triggers count: an
// inactive trigger starts nobody.

func init() { register(wd012, wd013, wd014, wd015, wd016, wd017, wd018) }

var wd012 = &rule{
	doc: RuleDoc{
		ID: "WD012", Category: "triggers", Severity: SeverityError, Title: "Workflow can never start",
		Summary: "A published workflow with steps, no active trigger, and no workflow of the location that adds contacts to it; info for drafts.",
		Why: "GHL enrolls contacts only through a workflow's active triggers or an Add to Workflow action elsewhere. Without " +
			"either, the workflow is published but idle: the follow-up it was built for never happens and nothing says so. " +
			"Judging that no other workflow enrolls it needs every workflow of the location, so a partial import is reported " +
			"not assessed unless an enrolling workflow is visible.",
		Fix:     "Add and activate a trigger in the GHL builder, or add an Add to Workflow action pointing at it from the workflow that should hand contacts over; unpublish it if it is retired.",
		Example: "A published \"Nurture\" workflow whose only trigger was switched off, and which no other workflow adds contacts to.",
		Needs:   []string{NeedsWorkflow, NeedsLocation},
	},
	workflow: checkNeverStarts,
}

func checkNeverStarts(p *pass) {
	if len(p.wf.Steps) == 0 {
		return
	}
	for _, t := range p.wf.Triggers {
		if t.Active {
			return
		}
	}
	if len(p.idx.locGraph().enrollers(p.wf)) > 0 {
		return
	}
	if !p.loc.Complete {
		p.notAssessed("the workflow has no active trigger, and not every workflow of the location is known, so one of them may add contacts to it")
		return
	}
	why := "has no trigger"
	switch n := len(p.wf.Triggers); n {
	case 0:
	case 1:
		why = "its only trigger is inactive"
	default:
		why = fmt.Sprintf("all %d of its triggers are inactive", n)
	}
	if p.wf.Status == StatusDraft {
		p.reportAt(SeverityInfo, "", "This draft %s, and no workflow of the location adds contacts to it, so publishing it alone would start nobody.", why)
		return
	}
	p.report("", "The workflow is published but %s, and no workflow of the location adds contacts to it, so it never starts.", why)
}

var wd013 = &rule{
	doc: RuleDoc{
		ID: "WD013", Category: "triggers", Severity: SeverityWarning, Title: "Unfiltered appointment trigger",
		Summary: "An active Appointment Status trigger without an appointment-status filter or without a calendar filter.",
		Why: "Appointment Status fires for every status change (booked, confirmed, cancelled, showed, no-show) on every " +
			"calendar unless filtered. A no-show recovery or reminder flow without a status filter enrolls fresh bookings " +
			"(and, because GHL re-books on reschedule, reschedules too); without a calendar filter it enrolls appointments of " +
			"every calendar in the location.",
		Fix:     "In the trigger's filters in the GHL builder add \"Appointment status is ...\" and \"In calendar ...\" for the statuses and calendars the workflow is meant for.",
		Example: "A \"No-show recovery\" workflow triggered by Appointment Status with only a calendar filter.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkAppointmentFilters,
}

// hasFilter reports whether a trigger has a filter on field with at least one value.
func hasFilter(t *Trigger, field string) bool {
	for _, f := range t.Filters {
		if f.Field == field && slices.ContainsFunc(f.Values, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			return true
		}
	}
	return false
}

func checkAppointmentFilters(p *pass) {
	for i := range p.wf.Triggers {
		t := &p.wf.Triggers[i]
		if !t.Active || t.Type != TriggerAppointment {
			continue
		}
		status, calendar := hasFilter(t, "appointment.status"), hasFilter(t, "calendar.id")
		if unknown := unknownFilters(t); (!status || !calendar) && len(unknown) > 0 {
			// The filter the rule misses may be one it cannot read.
			p.triggerNotAssessed(t, unknown)
			continue
		}
		switch {
		case !status && !calendar:
			p.report("", "Appointment trigger %s has no status filter and no calendar filter, so every booking, cancellation and "+
				"no-show on every calendar of the location enters this workflow.", triggerLabel(t))
		case !status:
			p.report("", "Appointment trigger %s has no status filter, so every booking, confirmation, cancellation and no-show "+
				"on its calendars enters this workflow.", triggerLabel(t))
		case !calendar:
			p.report("", "Appointment trigger %s has no calendar filter, so appointments on every calendar of the location enter "+
				"this workflow.", triggerLabel(t))
		}
	}
}

var wd014 = &rule{
	doc: RuleDoc{
		ID: "WD014", Category: "triggers", Severity: SeverityError, Title: "Contact-changed trigger without a watched field",
		Summary: "An active Contact Changed trigger with no contact field to watch.",
		Why: "Contact Changed with no field fires on every edit of every contact: imports, integrations, staff edits, and " +
			"this workflow's own field and tag writes, so it enrolls contacts nobody meant to and can loop on itself until " +
			"GHL's Loop Lock trips.",
		Fix:     "In the trigger's filters in the GHL builder pick the field to watch (for example \"Email has changed\"), or use a more specific trigger such as Form Submitted.",
		Example: "A Contact Changed trigger with no filters on a workflow that updates the contact's \"Lead status\" field.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkContactChangedField,
}

func checkContactChangedField(p *pass) {
	lg := p.idx.locGraph()
	for i := range p.wf.Triggers {
		t := &p.wf.Triggers[i]
		if !t.Active || t.Type != TriggerContactChanged {
			continue
		}
		watched := false
		for _, f := range t.Filters {
			if _, ok := lg.watchedField(f.Field); ok {
				watched = true
			}
		}
		if watched {
			continue
		}
		if unknown := unknownFilters(t); len(unknown) > 0 {
			p.triggerNotAssessed(t, unknown)
			continue
		}
		own := ""
		for _, w := range lg.writes(p.wf) {
			if w.Kind == signalField {
				own = fmt.Sprintf(", including this workflow's own step %s", stepLabel(p.g.step(w.Step)))
				break
			}
		}
		p.report("", "Contact Changed trigger %s watches no field, so any edit of any contact starts this workflow%s.", triggerLabel(t), own)
	}
}

var wd015 = &rule{
	doc: RuleDoc{
		ID: "WD015", Category: "triggers", Severity: SeverityWarning, Title: "Self-retrigger",
		Summary: "The workflow adds the tag, writes the field or moves to the stage its own trigger listens to; error when re-entry is on.",
		Why: "A workflow that produces its own trigger event restarts itself: with Allow Re-entry on, GHL enrolls the contact " +
			"again, every message repeats, and the loop runs until Loop Lock (50 executions in about 30 minutes). With re-entry " +
			"off it is harmless only while that setting stays off. A Contact Changed trigger with no field is WD014's.",
		Fix:     "Write a different tag, field or stage than the one that starts the workflow (for example add \"nurture-started\" instead of re-adding \"nurture\"), or add a filter to the trigger that the workflow's own write does not match.",
		Example: "A workflow triggered by tag \"hot lead\" whose first step adds tag \"hot lead\" again, with re-entry on.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkSelfRetrigger,
}

func checkSelfRetrigger(p *pass) {
	lg := p.idx.locGraph()
	listens := lg.listens(p.wf)
	severity := SeverityWarning
	consequence := "re-entry is off, so this is harmless only while it stays off"
	if p.wf.Settings.AllowReEntry {
		severity = SeverityError
		consequence = "with re-entry on, the contact is started again and every step repeats until GHL's Loop Lock stops it"
	}
	for _, w := range lg.writes(p.wf) {
		for _, l := range listens {
			if l.Kind == signalField && l.Accept == nil {
				continue // WD014: a Contact Changed trigger with no watched field.
			}
			if !l.accepts(w.signal) {
				continue
			}
			if len(l.Unknown) > 0 {
				// It seems to fire for the write, but a filter the analyzer cannot read may exclude it.
				p.triggerNotAssessed(&p.wf.Triggers[l.Trigger], l.Unknown)
				continue
			}
			var what string
			switch w.Kind {
			case signalTag:
				what = fmt.Sprintf("adds tag %q", w.Value)
			case signalField:
				what = "writes " + w.Value
			case signalStage:
				what = "moves an opportunity to stage " + lg.idx.stageName(w.Value)
			}
			p.reportAt(severity, w.Step, "Step %s %s, which this workflow's own trigger %s listens to; %s.",
				stepLabel(p.g.step(w.Step)), what, triggerLabel(&p.wf.Triggers[l.Trigger]), consequence)
			break
		}
	}
}

var wd016 = &rule{
	doc: RuleDoc{
		ID: "WD016", Category: "triggers", Severity: SeverityWarning, Title: "Deprecated primitive",
		Summary: "The deprecated Customer Booked Appointment trigger or the legacy combined Create/Update Opportunity action (create_update_opportunity; create_opportunity is the current create action and is not flagged); the trigger is an error when a live workflow of the location also starts on Appointment Status for the same calendars.",
		Why: "GHL deprecated Customer Booked Appointment in favour of Appointment Status, and the legacy combined Create/Update " +
			"Opportunity action (key create_update_opportunity) in favour of Create Opportunity (create_opportunity, the current " +
			"action, which this rule does not flag) and Update Opportunity; deprecated primitives get no fixes and " +
			"can be removed. GHL names Appointment Status and Customer Booked Appointment together as a cause of race " +
			"conditions: one booking starts both, and updates made in the same second may apply out of order or not at all.",
		Fix:     "Rebuild the trigger as Appointment Status with status \"booked\" (and the same calendar filter) and delete the old one; replace the legacy opportunity action with Create Opportunity or Update Opportunity.",
		Example: "A booking-confirmation workflow on Customer Booked Appointment while a reminder workflow starts on Appointment Status for the same calendar.",
		Needs:   []string{NeedsWorkflow, NeedsLocation},
	},
	workflow: checkDeprecated,
}

func checkDeprecated(p *pass) {
	lg := p.idx.locGraph()
	for i := range p.wf.Triggers {
		t := &p.wf.Triggers[i]
		if !t.Active || t.Type != TriggerCustomerAppointment {
			continue
		}
		// A race needs both triggers to fire for the same booking, which is unknown when either is
		// filtered on something the analyzer cannot read: then only the deprecation is reported.
		var racer *listener
		if live(p.wf) && len(unknownFilters(t)) == 0 {
			racer = lg.appointmentRacer(calendarFilter(t))
		}
		if racer == nil {
			p.report("", "Trigger %s is the deprecated Customer Booked Appointment trigger; GHL replaced it with Appointment Status.", triggerLabel(t))
			continue
		}
		where := "this workflow"
		if racer.WF != p.wf {
			where = workflowLabel(racer.WF)
		}
		p.reportAt(SeverityError, "", "Trigger %s is the deprecated Customer Booked Appointment trigger, and %s also starts on Appointment "+
			"Status trigger %s for the same calendars, so one booking starts both and their updates race.",
			triggerLabel(t), where, triggerLabel(&racer.WF.Triggers[racer.Trigger]))
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind == KindOpportunity && s.Opportunity != nil && s.Opportunity.Legacy {
			p.report(s.ID, "Step %s uses the legacy Create/Update Opportunity action, which GHL deprecated in favour of Create "+
				"Opportunity and Update Opportunity.", stepLabel(s))
		}
	}
}

// calendarFilter returns the calendars a trigger's positive calendar filters name; nil means every
// calendar.
func calendarFilter(t *Trigger) []string {
	calendars, _ := filterValues(t.Filters, func(f string) bool { return f == "calendar.id" }, strings.TrimSpace)
	return calendars
}

// appointmentIndex is every active Appointment Status trigger of a live workflow, in location order,
// indexed by the calendars it filters on, so WD016 finds the first one that can fire with a deprecated
// trigger without comparing every pair.
type appointmentIndex struct {
	listeners []listener
	// anyCalendar is the position in listeners of the first trigger without a calendar filter, and
	// byCalendar of the first one naming each calendar; -1 and absent when there is none.
	anyCalendar int
	byCalendar  map[string]int
}

// appointmentRacer returns the first active Appointment Status trigger of a live workflow, in location
// order, that fires for an appointment on one of calendars (nil: on any calendar), or nil when none
// does. An absent calendar filter matches every calendar.
func (lg *locGraph) appointmentRacer(calendars []string) *listener {
	ix := lg.appointments
	if ix == nil {
		ix = &appointmentIndex{anyCalendar: -1, byCalendar: map[string]int{}}
		for _, l := range lg.listeners(signal{Kind: TriggerAppointment}) {
			if !live(l.WF) || len(l.Unknown) > 0 {
				continue
			}
			at := len(ix.listeners)
			ix.listeners = append(ix.listeners, l)
			cals := calendarFilter(&l.WF.Triggers[l.Trigger])
			if cals == nil {
				if ix.anyCalendar < 0 {
					ix.anyCalendar = at
				}
				continue
			}
			for _, c := range cals {
				if _, ok := ix.byCalendar[c]; !ok {
					ix.byCalendar[c] = at
				}
			}
		}
		lg.appointments = ix
	}
	first := -1
	switch {
	case calendars == nil && len(ix.listeners) > 0:
		first = 0
	case calendars != nil:
		first = ix.anyCalendar
		for _, c := range calendars {
			if at, ok := ix.byCalendar[c]; ok && (first < 0 || at < first) {
				first = at
			}
		}
	}
	if first < 0 {
		return nil
	}
	return &ix.listeners[first]
}

var wd017 = &rule{
	doc: RuleDoc{
		ID: "WD017", Category: "triggers", Severity: SeverityWarning, Title: "Trigger references a missing object",
		Summary: "An active trigger filters on a tag, form, survey, calendar, pipeline or stage that the location does not have.",
		Why: "GHL keeps trigger filters that point at deleted or never-created objects, and such a trigger never fires. A tag " +
			"typo is the common case: the filter names a tag nothing ever adds, while the real tag goes unwatched (a tag " +
			"that a workflow of the location adds is not missing: the write creates it). Snapshot " +
			"and cloned workflows carry ids of the source location's forms, calendars and pipelines. Needs the location's " +
			"lists; without them the rule is not assessed.",
		Fix:     "In the trigger's filters in the GHL builder pick the existing tag, form, survey, calendar, pipeline or stage from the drop-down instead of the stale value.",
		Example: "A tag trigger on \"webinar-regsitered\" in a location whose tag is \"webinar-registered\".",
		Needs:   []string{NeedsContext},
	},
	workflow: checkTriggerObjects,
}

// triggerObjectFields maps a trigger filter field to the kind of location object its values name.
var triggerObjectFields = map[string]string{
	"tag": "tag", "form.id": "form", "survey.id": "survey", "calendar.id": "calendar",
	"pipeline.id": "pipeline", "pipeline.stage.id": "stage",
}

func checkTriggerObjects(p *pass) {
	ctx := p.loc.Context
	lists := p.idx.triggerObjects()
	missingList := map[string]bool{}
	for i := range p.wf.Triggers {
		t := &p.wf.Triggers[i]
		if !t.Active {
			continue
		}
		for _, f := range t.Filters {
			kind, ok := triggerObjectFields[f.Field]
			if !ok {
				continue
			}
			exists := lists[kind]
			for _, v := range f.Values {
				if strings.TrimSpace(v) == "" {
					continue
				}
				if exists == nil {
					missingList[kind] = true
					continue
				}
				// A tag that a workflow of the location adds comes into being with its first write, so
				// only a tag nothing creates is missing.
				if !exists(t, v) && (kind != "tag" || len(p.idx.locGraph().tagWriters(v)) == 0) {
					p.report("", "Trigger %s filters on %s %q, which does not exist in this location, so the trigger never fires for it.",
						triggerLabel(t), kind, v)
				}
			}
		}
	}
	if ctx == nil && len(missingList) > 0 {
		p.notAssessed("no location context, so the objects the triggers filter on cannot be checked")
		return
	}
	for _, kind := range []string{"tag", "form", "survey", "calendar", "pipeline", "stage"} {
		list := kind
		if kind == "stage" {
			list = "pipeline" // stages are listed under their pipelines
		}
		if missingList[kind] {
			p.notAssessed(fmt.Sprintf("the location context has no %s list", list))
		}
	}
}

var wd018 = &rule{
	doc: RuleDoc{
		ID: "WD018", Category: "triggers", Severity: SeverityInfo, Title: "Trigger tag nobody writes",
		Summary: "A tag an active trigger listens to that no live workflow of the location adds.",
		Why: "When no workflow adds the tag, only a person, a form, an import or an integration can start the workflow. That " +
			"may be intended, but it is also how a renamed or misspelled tag shows: the writer adds \"Hot-Lead\" while the " +
			"trigger waits for \"hot lead\". Concluding that nobody writes it needs every workflow of the location, so a " +
			"partial import is reported not assessed.",
		Fix:     "Check which workflow, form or integration is meant to add the tag and make its spelling match the trigger's, or note where the tag comes from.",
		Example: "A workflow triggered by tag \"demo-booked\" while the booking workflow adds \"demo booked\".",
		Needs:   []string{NeedsLocation},
	},
	workflow: checkUnwrittenTriggerTags,
}

func checkUnwrittenTriggerTags(p *pass) {
	lg := p.idx.locGraph()
	var missing []string
	reported := map[string]bool{}
	for _, l := range lg.listens(p.wf) {
		if l.Kind != signalTag {
			continue
		}
		for _, tag := range l.Accept {
			if reported[tag] || len(lg.tagWriters(tag)) > 0 {
				continue
			}
			reported[tag] = true
			missing = append(missing, tag)
			if p.loc.Complete {
				p.report("", "No live workflow of this location adds tag %q, which trigger %s listens for, so only a person, form or "+
					"integration can start this workflow.", tag, triggerLabel(&p.wf.Triggers[l.Trigger]))
			}
		}
	}
	if !p.loc.Complete && len(missing) > 0 {
		p.notAssessed(fmt.Sprintf("no known workflow adds trigger %s %s, and not every workflow of the location is known",
			Plural(len(missing), "tag"), quoteList(missing)))
	}
}

// quoteList writes values quoted and comma-separated.
func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
