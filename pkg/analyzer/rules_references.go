package analyzer

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

func init() { register(wd035, wd036, wd037, wd038, wd039, wd040) }

var wd035 = &rule{
	doc: RuleDoc{
		ID: "WD035", Category: "references", Severity: SeverityError,
		Title:   "Step references a missing object",
		Summary: "A step refers to a calendar, user, pipeline, stage, custom field or value, template, form, workflow or phone number the location does not have, or to another location.",
		Why: "GHL skips a step whose object was deleted without an error, so the booking, assignment, stage move or message " +
			"silently does not happen. Snapshots and cross-location copies carry the structure but not the objects: the ids " +
			"inside still point at the source location, and the steps save but do not work until they are remapped.",
		Fix: "Open the step and pick the object again from this location's list (recreate it first if it was deleted); after a " +
			"snapshot or copy, remap every calendar, user, pipeline, stage and field.",
		Example: "\"Move to Booked\" moves the opportunity to stage stg_9, which the pipeline \"Sales\" does not have.",
		Needs:   []string{NeedsContext},
	},
	location: checkMissingObjects,
}

// phoneDigits keeps the digits of a phone number, so "+1 (555) 010-9900" matches "+15550109900".
func phoneDigits(s string) string {
	// Most numbers are written +<digits> (E.164): their digits are a substring, and a context of many
	// numbers need not copy each.
	if digits := strings.TrimPrefix(s, "+"); strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return digits
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// contextList names the context list that holds a reference kind, for not-assessed reasons.
var contextList = map[string]string{
	RefCalendar: "calendars", RefUser: "users", RefPipeline: "pipelines", RefStage: "pipelines",
	RefCustomField: "custom fields", RefCustomValue: "custom values", RefTemplate: "templates", RefForm: "forms",
	RefPhoneNumber: "phone numbers",
}

// refKindName is how a reference kind reads in a message.
var refKindName = map[string]string{
	RefCalendar: "calendar", RefUser: "user", RefPipeline: "pipeline", RefStage: "stage", RefCustomField: "custom field",
	RefCustomValue: "custom value", RefTemplate: "template", RefForm: "form", RefWorkflow: "workflow",
	RefPhoneNumber: "phone number", RefLocation: "location",
}

// checkMissingObjects indexes the location context once and checks every workflow against it.
func checkMissingObjects(p *pass) {
	ix := p.idx.ctx
	for i := range p.workflowIndexes() {
		checkWorkflowObjects(p.on(&p.loc.Workflows[i]), ix)
	}
}

// checkWorkflowObjects checks one workflow's references; ix is nil when the location has no context.
func checkWorkflowObjects(p *pass, ix *contextIndex) {
	locID := strings.TrimSpace(p.loc.ID)
	if wfLoc := strings.TrimSpace(p.wf.LocationID); locID != "" && wfLoc != "" && wfLoc != locID {
		p.report("", "The workflow belongs to location %s but is analysed in location %s: it was copied across locations, and the ids it carries (calendars, users, pipelines, fields) point into %s",
			wfLoc, locID, wfLoc)
	}
	if locID == "" {
		locID = strings.TrimSpace(p.wf.LocationID)
	}
	unknownKinds := map[string]bool{}
	var unknownWorkflows []string
	noContext := false
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if len(s.Unread) > 0 {
			// An unread part may hold a reference this rule would check.
			p.stepNotAssessed(p.wf, s)
		}
		var enrolled []string
		if s.Enrollment != nil {
			enrolled = s.Enrollment.WorkflowIDs
		}
		for _, r := range s.Refs {
			id := strings.TrimSpace(r.ID)
			if id == "" {
				continue
			}
			switch r.Kind {
			case RefLocation:
				switch {
				case locID == "":
					unknownKinds[RefLocation] = true
				case id != locID:
					p.report(s.ID, "%s carries the id of location %s, not this location's (%s): it was copied from there and its references point there", stepTitle(s), id, locID)
				}
				continue
			case RefWorkflow:
				// Add- and remove-from-workflow targets are WD021's; other workflow references are checked here.
				if slices.ContainsFunc(enrolled, func(e string) bool { return strings.TrimSpace(e) == id }) {
					continue
				}
				if _, ok := p.idx.byID[id]; ok {
					continue
				}
				if !p.loc.Complete {
					unknownWorkflows = append(unknownWorkflows, id)
					continue
				}
				p.report(s.ID, "%s refers to workflow %s, which does not exist in this location", stepTitle(s), id)
				continue
			}
			if _, known := contextList[r.Kind]; !known {
				continue
			}
			if ix == nil {
				noContext = true
				continue
			}
			if msg, assessed := ix.missing(r, id); !assessed {
				unknownKinds[r.Kind] = true
			} else if msg != "" {
				p.report(s.ID, "%s %s", stepTitle(s), msg)
			}
		}
	}
	if noContext {
		p.notAssessed("no location context: the calendars, users, pipelines, fields, templates, forms and phone numbers the steps refer to cannot be checked")
	}
	for _, kind := range slices.Sorted(maps.Keys(unknownKinds)) {
		if kind == RefLocation {
			p.notAssessed("the location's id is unknown, so location ids carried by steps cannot be compared with it")
			continue
		}
		p.notAssessed(fmt.Sprintf("the location context has no list of %s, so the %s references cannot be checked", contextList[kind], refKindName[kind]))
	}
	if len(unknownWorkflows) > 0 {
		slices.Sort(unknownWorkflows)
		p.notAssessed(fmt.Sprintf("workflows %s are not among the analysed workflows and the location is not complete", strings.Join(slices.Compact(unknownWorkflows), ", ")))
	}
}

// missing checks one reference against the context. It returns the message completing "<step> ..."
// when the object is missing, "" when it exists, and assessed=false when the context does not list
// objects of that kind.
func (ix *contextIndex) missing(r Ref, id string) (msg string, assessed bool) {
	switch r.Kind {
	case RefStage:
		pl := ix.pipelines()
		if pl == nil {
			return "", false
		}
		parent := strings.TrimSpace(r.Parent)
		if parent == "" {
			if pl.anyStage[id] {
				return "", true
			}
			return fmt.Sprintf("uses stage %s, which no pipeline of this location has", id), true
		}
		switch {
		case !pl.pipelines[parent]:
			return fmt.Sprintf("uses stage %s of pipeline %s, and that pipeline is not in this location", id, parent), true
		case pl.stages[stageOf{parent, id}]:
			return "", true
		case pl.anyStage[id]:
			return fmt.Sprintf("uses stage %s with pipeline %s, but the stage belongs to another pipeline", id, pl.pipelineName(parent)), true
		}
		return fmt.Sprintf("uses stage %s, which pipeline %s does not have", id, pl.pipelineName(parent)), true
	case RefPhoneNumber:
		ids, ok := ix.ids(r.Kind)
		if !ok {
			return "", false
		}
		if ids[phoneDigits(id)] {
			return "", true
		}
		return fmt.Sprintf("sends from phone number %s, which is not one of this location's numbers", id), true
	}
	ids, ok := ix.ids(r.Kind)
	if !ok {
		return "", false
	}
	if ids[id] || (r.Kind == RefCustomField && ids[normalizeMergeKey(id, "contact")]) ||
		(r.Kind == RefCustomValue && ids[normalizeMergeKey(id, "custom_values")]) {
		return "", true
	}
	return fmt.Sprintf("uses %s %s, which does not exist in this location", refKindName[r.Kind], id), true
}

var wd036 = &rule{
	doc: RuleDoc{
		ID: "WD036", Category: "references", Severity: SeverityWarning,
		Title:   "Merge field that renders blank or invalid",
		Summary: "A merge field names an unknown contact field, a custom field or value the location lacks, the non-existent {{contact.custom.x}} form, appointment fields without an appointment trigger, or is malformed.",
		Why: "GHL does not stop a message whose merge field cannot be filled: it sends it with a hole (\"Hi , your booking " +
			"is at \"). A custom value that is empty renders blank too, {{contact.custom.x}} is not a GHL field, appointment " +
			"fields are only filled when an appointment started the workflow, and a placeholder with a missing brace or a " +
			"space inside is sent as literal text.",
		Fix: "Pick the field again from the merge-field picker of the step (custom fields are {{contact.<field key>}}), create or " +
			"fill the custom value, and use appointment fields only in appointment-triggered workflows.",
		Example: "SMS \"Welcome\" says \"Hi {{contact.custom.nickname}}\" and email \"Booking\" uses {{custom_values.booking_link}}, which is empty.",
		Needs:   []string{NeedsWorkflow, NeedsContext},
	},
	location: checkMergeFields,
}

// mergeContext is the location context's custom fields and values by merge key.
type mergeContext struct {
	fields map[string]bool   // custom field keys, nil when unknown
	values map[string]string // custom value keys to values, nil when unknown
}

func newMergeContext(idx *locIndex) mergeContext {
	var mc mergeContext
	ctx := idx.loc.Context
	if ctx == nil {
		return mc
	}
	if ctx.CustomFields != nil {
		mc.fields = make(map[string]bool, len(ctx.CustomFields))
		for f := range eachOf(idx, ctx.CustomFields) {
			k := normalizeMergeKey(f.Key, "contact")
			if k == "" {
				k = slugKey(f.Name)
			}
			if k != "" {
				mc.fields[k] = true
			}
		}
	}
	if ctx.CustomValues != nil {
		mc.values = make(map[string]string, len(ctx.CustomValues))
		for v := range eachOf(idx, ctx.CustomValues) {
			k := normalizeMergeKey(v.Key, "custom_values")
			if k == "" {
				k = slugKey(v.Name)
			}
			if k != "" {
				mc.values[k] = v.Value
			}
		}
	}
	return mc
}

func checkMergeFields(p *pass) {
	mc := newMergeContext(p.idx)
	// Buffers reused across steps: most steps have a few texts and placeholders, and this rule reads
	// every one of them.
	var texts []mergeText
	var fields []mergeField
	seen := map[string]bool{}
	for wi := range p.workflowIndexes() {
		wf := &p.loc.Workflows[wi]
		sub := p.on(wf)
		appointment := false
		for _, t := range enrollingTriggers(wf) {
			appointment = appointment || isAppointmentType(t.Type)
		}
		var needFields, needValues bool
		for si := range wf.Steps {
			s := &wf.Steps[si]
			texts = mergeTexts(texts[:0], s)
			if len(seen) > 64 {
				// Clearing costs the map's capacity: one huge step must not slow every later one.
				seen = map[string]bool{}
			} else {
				clear(seen)
			}
			for _, mt := range texts {
				fields = scanMergeFields(fields[:0], mt.Text)
				for _, m := range fields {
					// The same placeholder twice in a step is reported once.
					if seen[m.Raw] {
						continue
					}
					seen[m.Raw] = true
					msg, ctxField, ctxValue := mergeProblem(m, mc, appointment)
					needFields = needFields || ctxField
					needValues = needValues || ctxValue
					if msg != "" {
						sub.report(s.ID, "%s in %s of %s %s", m.Raw, mt.where(), stepLabel(s), msg)
					}
				}
			}
		}
		if needFields {
			sub.notAssessed("the location's custom fields are unknown, so {{contact.x}} merge fields that are not standard contact fields cannot be checked")
		}
		if needValues {
			sub.notAssessed("the location's custom values are unknown, so {{custom_values.x}} merge fields cannot be checked")
		}
	}
}

// customSegments are the made-up middle segments of {{contact.custom.x}}-style placeholders.
var customSegments = []string{"custom", "custom_field", "custom_fields", "customfield", "customfields"}

// mergeProblem says what is wrong with a placeholder, completing "<placeholder> in <where> of <step>
// ...", or "" when nothing is. needFields and needValues say the verdict needed the location's custom
// fields or values and they are unknown.
func mergeProblem(m mergeField, mc mergeContext, appointment bool) (msg string, needFields, needValues bool) {
	if m.Problem != "" {
		return m.Problem + ", so GHL sends it as written instead of filling it in", false, false
	}
	ns, rest := m.namespace()
	key := strings.ToLower(rest)
	switch ns {
	case "contact":
		if seg, _, nested := strings.Cut(key, "."); nested && slices.Contains(customSegments, seg) {
			return fmt.Sprintf("uses a .%s. segment, which GHL does not have: custom fields are {{contact.<field key>}}, so it renders blank", seg), false, false
		}
		if standardContactFields[key] {
			return "", false, false
		}
		if mc.fields == nil {
			return "", true, false
		}
		if !mc.fields[key] {
			return "is neither a standard contact field nor a custom field of this location, so it renders blank", false, false
		}
	case "custom_value":
		return "uses the namespace custom_value, which GHL does not have (custom values are {{custom_values.<key>}}), so it renders blank", false, false
	case "custom_values":
		if mc.values == nil {
			return "", false, true
		}
		v, ok := mc.values[key]
		switch {
		case !ok:
			return "is not a custom value of this location, so it renders blank", false, false
		case strings.TrimSpace(v) == "":
			return "is a custom value with no value set in this location, so it renders blank", false, false
		}
	case "appointment":
		if !appointment {
			return "is an appointment field, but no appointment trigger starts this workflow, so it renders blank", false, false
		}
	}
	return "", false, false
}

var wd037 = &rule{
	doc: RuleDoc{
		ID: "WD037", Category: "references", Severity: SeverityWarning,
		Title:   "Risky webhook",
		Summary: "A webhook posts to localhost, a tunnel or a request bin, over plain http, or to a hard-coded URL in a cloned workflow; error when a credential is visible.",
		Why: "GHL's servers send the request, so a localhost or private address never receives it and GHL skips the failure " +
			"silently; a tunnel or request bin is a development endpoint that hands contact data to whoever holds the link; " +
			"plain http sends it unencrypted. A hard-coded URL in a workflow cloned from a snapshot keeps sending every new " +
			"client's contacts to the original owner's endpoint. A credential typed into the URL, a header or the body is " +
			"readable by everyone who can open the workflow, its snapshots and exports.",
		Fix: "Point the webhook at the production HTTPS endpoint; keep credentials and per-client URLs in custom values " +
			"({{custom_values.api_key}}) and rotate any credential that was written in the step.",
		Example: "\"Send to CRM\" posts to https://abc123.ngrok-free.app/hook with an Authorization header typed in.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkRiskyWebhooks,
}

func checkRiskyWebhooks(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		w := s.Webhook
		if s.Kind != KindWebhook || w == nil || strings.TrimSpace(w.URL) == "" {
			continue
		}
		u := parseWebhookURL(w.URL)
		if places := exposedCredentials(w, u); len(places) > 0 {
			p.reportAt(SeverityError, s.ID, "%s has a credential written in %s: anyone who can open the workflow, a snapshot or an export can read it",
				stepTitle(s), joinLabels(places))
		}
		if u == nil {
			continue
		}
		host := u.Hostname()
		kind, service := hostRisk(host)
		switch kind {
		case "local":
			p.report(s.ID, "%s posts to %s, a local or private address GHL's servers cannot reach: every call fails and GHL skips it silently", stepTitle(s), host)
		case "tunnel":
			p.report(s.ID, "%s posts to %s, a tunnel (%s) to a developer's machine: it stops receiving when the tunnel closes, and whoever runs it gets the contact data", stepTitle(s), host, service)
		case "bin":
			p.report(s.ID, "%s posts to %s, a request-inspection service: contact data goes to a test endpoint anyone with the link can read", stepTitle(s), service)
		}
		if strings.EqualFold(u.Scheme, "http") && kind != "local" {
			p.report(s.ID, "%s posts over plain http to %s, so contact data travels unencrypted", stepTitle(s), host)
		}
		if p.wf.Settings.Cloned && !strings.Contains(w.URL, "{{") {
			p.report(s.ID, "%s posts to the hard-coded %s in a workflow cloned from a snapshot or another location: every client's contacts go to that one endpoint", stepTitle(s), host)
		}
	}
}

var wd038 = &rule{
	doc: RuleDoc{
		ID: "WD038", Category: "references", Severity: SeverityInfo,
		Title:   "Publish-state hygiene",
		Summary: "A draft that looks finished, or a published workflow named test, copy or sandbox.",
		Why: "A draft runs no contacts: a finished workflow left in draft (snapshots and imports land as drafts) silently does " +
			"nothing, and workflows that should hand over to it stop there. A published workflow named test, copy or sandbox " +
			"is usually an experiment or a duplicate running on real contacts next to the real one.",
		Fix:     "Publish the finished draft (or rename it to say it is parked); unpublish, delete or rename the test or copy.",
		Example: "\"Lead nurture (copy)\" is published next to \"Lead nurture\".",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkPublishHygiene,
}

var (
	// scratchName matches workflow names that mark an experiment or a duplicate: test, testing or
	// sandbox as a word, or copy as clones are named ("X (copy)", "X - Copy 2", "Copy of X", "X_copy"),
	// not copy in the copywriting sense ("Ad copy review").
	scratchName = regexp.MustCompile(`(?i)\b(test|testing|sandbox)\b|\(copy(\s*\d+)?\)|[-_–]\s*copy(\s*\d+)?\s*$|^\s*copy\s+of\b`)
	// testDrive is a business term, not a test.
	testDrive = regexp.MustCompile(`(?i)\btest[\s-]?drives?\b`)
	// parkedName matches names that say a draft is parked on purpose.
	parkedName = regexp.MustCompile(`(?i)\b(old|archived?|backup|deprecated|unused|wip|draft|template|paused|disabled|do not use|don't use|dont use|inactive|retired)\b`)
)

func checkPublishHygiene(p *pass) {
	wf := p.wf
	switch wf.Status {
	case StatusPublished:
		if m := scratchName.FindString(testDrive.ReplaceAllString(wf.Name, "")); m != "" {
			word := "copy"
			for _, w := range []string{"sandbox", "testing", "test"} {
				if strings.Contains(strings.ToLower(m), w) {
					word = w
					break
				}
			}
			p.report("", "Workflow %q is published but its name says %q: if it is an experiment or a duplicate, it is running on real contacts", wf.Name, word)
		}
	case StatusDraft:
		if why := finishedDraft(p); why != "" {
			p.report("", "Workflow %q is a draft but looks finished (%s): a draft runs no contacts, so it does nothing until it is published", wf.Name, why)
		}
	}
}

// finishedDraft says why a draft looks finished, or "" when it does not: it has a trigger GHL knows,
// at least two steps of which one acts on the contact, every step reachable, every edge leading to a
// step that exists, no unknown or incomplete step, and a name that does not say it is parked.
func finishedDraft(p *pass) string {
	wf := p.wf
	if parkedName.MatchString(wf.Name) || len(wf.Steps) < 2 {
		return ""
	}
	var trigger *Trigger
	for i := range wf.Triggers {
		if wf.Triggers[i].Known {
			trigger = &wf.Triggers[i]
			break
		}
	}
	if trigger == nil {
		return ""
	}
	acts := false
	for i := range wf.Steps {
		s := &wf.Steps[i]
		if !p.g.reachable[i] || s.Kind == KindUnknown || incompleteAction(s) != "" {
			return ""
		}
		acts = acts || (s.Kind != KindWait && s.Kind != KindCondition && s.Kind != KindGoto && s.Kind != KindSplit)
	}
	for _, e := range wf.Edges {
		if e.To != "" && p.g.step(e.To) == nil {
			return ""
		}
	}
	if !acts {
		return ""
	}
	return fmt.Sprintf("trigger %s, %d steps, all reachable and complete", triggerLabel(trigger), len(wf.Steps))
}

var wd039 = &rule{
	doc: RuleDoc{
		ID: "WD039", Category: "references", Severity: SeverityInfo,
		Title:   "Unknown step or trigger type",
		Summary: "A step or trigger has a type the importer does not know; it is kept, counted and named.",
		Why: "GHL has hundreds of action and trigger types, integrations included. A type the analyzer does not know is kept " +
			"in the graph, but no rule can judge what it does, so its findings may be missing; naming it shows the gap.",
		Fix:     "Nothing to change in GHL. Report the type to the ghl-debugger maintainers so a future version understands it.",
		Example: "A step of type \"ai_voice_agent\" that this version of the analyzer does not know.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow:   checkUnknownTypes,
	structural: true,
}

func checkUnknownTypes(p *pass) {
	for i := range p.wf.Triggers {
		t := &p.wf.Triggers[i]
		if !t.Known {
			p.report("", "Trigger %s has type %q, which this version of the analyzer does not know: no rule judges what starts this workflow through it",
				triggerLabel(t), cmp.Or(t.RawType, t.Type))
		}
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind == KindUnknown {
			p.report(s.ID, "%s has type %q, which this version of the analyzer does not know: no rule judges what it does",
				stepTitle(s), s.Type)
		}
	}
}

var wd040 = &rule{
	doc: RuleDoc{
		ID: "WD040", Category: "references", Severity: SeverityWarning,
		Title:   "Contains-collision or value never written",
		Summary: "A contains test also matches a longer value used in the location (QUALIFIED in DISQUALIFIED), or an exact test looks for a value no workflow writes.",
		Why: "A contains test is a substring match: \"contains QUALIFIED\" is true for a contact tagged or marked DISQUALIFIED, " +
			"so disqualified leads take the qualified path. An exact-match test for a value that the workflows writing the " +
			"field never write (\"Qualified\" when they write \"qualified-lead\") never matches, and its branch or trigger " +
			"never fires.",
		Fix: "Test with \"is\" (exact) instead of \"contains\", or rename the values so none is part of another; make the " +
			"exact-match value the same string the writer writes.",
		Example: "If/else \"Qualified?\" tests tag contains \"qualified\" while \"disqualified\" is also a tag of the location.",
		Needs:   []string{NeedsWorkflow, NeedsLocation},
	},
	location: checkValueCollisions,
}

// valueTest is one test of a tag or contact field against a value: a condition clause or a trigger
// filter.
type valueTest struct {
	// subject is "tag" or a contact field in the location graph's key form ("contact.lead_status").
	subject string
	op      string
	value   string
	// stepID is the step holding the clause; trigger is the trigger holding the filter.
	stepID  string
	trigger *Trigger
}

// valueVocabulary is every value the location uses for tags and per contact field: context tags,
// tags added, removed or tested, and values written to or tested on each field.
type valueVocabulary struct {
	tags   []string
	fields map[string][]string
	// written holds, per field, the literal values workflow steps write, as written; dynamic marks
	// fields some step writes with a merge field, whose values cannot be known.
	written map[string][]string
	dynamic map[string]bool
}

func (v *valueVocabulary) add(subject, value string) {
	value = strings.ToLower(strings.TrimSpace(value))
	if value == "" {
		return
	}
	if subject == "tag" {
		v.tags = append(v.tags, value)
		return
	}
	v.fields[subject] = append(v.fields[subject], value)
}

func (v *valueVocabulary) of(subject string) []string {
	if subject == "tag" {
		return v.tags
	}
	return v.fields[subject]
}

// workflowValueTests lists the tag and field tests of a workflow's conditions, condition waits and
// trigger filters.
func workflowValueTests(lg *locGraph, wf *Workflow) []valueTest {
	var out []valueTest
	subject := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "tag" {
			return s
		}
		if key, ok := lg.watchedField(s); ok {
			return key
		}
		return ""
	}
	for i := range wf.Triggers {
		t := &wf.Triggers[i]
		for _, f := range t.Filters {
			if sub := subject(f.Field); sub != "" {
				for _, v := range f.Values {
					out = append(out, valueTest{subject: sub, op: f.Operator, value: v, trigger: t})
				}
			}
		}
	}
	for i := range wf.Steps {
		s := &wf.Steps[i]
		var clauses []Clause
		if s.Condition != nil {
			for _, b := range s.Condition.Branches {
				clauses = append(clauses, b.Clauses...)
			}
		}
		if s.Wait != nil {
			clauses = append(clauses, s.Wait.Conditions...)
		}
		for _, c := range clauses {
			if sub := subject(c.Subject); sub != "" {
				out = append(out, valueTest{subject: sub, op: c.Operator, value: c.Value, stepID: s.ID})
			}
		}
	}
	return out
}

func checkValueCollisions(p *pass) {
	lg := p.idx.locGraph()
	voc := valueVocabulary{fields: map[string][]string{}, written: map[string][]string{}, dynamic: map[string]bool{}}
	if ctx := p.loc.Context; ctx != nil {
		for t := range eachOf(p.idx, ctx.Tags) {
			voc.add("tag", *t)
		}
	}
	tests := make([][]valueTest, len(p.loc.Workflows))
	for wi := range p.workflowIndexes() {
		wf := &p.loc.Workflows[wi]
		tests[wi] = workflowValueTests(lg, wf)
		for _, t := range tests[wi] {
			voc.add(t.subject, t.value)
		}
		g := p.idx.graph(wf)
		for si := range wf.Steps {
			s := &wf.Steps[si]
			for _, t := range s.Tags {
				voc.add("tag", t)
			}
			if s.Kind != KindFieldUpdate || !g.reachable[si] {
				continue
			}
			for _, f := range s.Fields {
				key := lg.fieldKey(f.Field)
				voc.add(key, f.Value)
				v := strings.TrimSpace(f.Value)
				switch {
				case strings.Contains(v, "{{"):
					voc.dynamic[key] = true
				case v != "":
					voc.written[key] = append(voc.written[key], v)
				}
			}
		}
	}
	longer := containingValues(p.idx, &voc, tests)
	written := map[string]*writtenValues{}
	for wi := range p.workflowIndexes() {
		wf := &p.loc.Workflows[wi]
		sub := p.on(wf)
		uncertain := false
		reported := map[valueTest]bool{}
		// once reports a test's finding unless the same test (same place, subject, operator and value)
		// was reported already.
		once := func(t valueTest, value, format string, args ...any) {
			key := t
			key.value = value
			if reported[key] {
				return
			}
			reported[key] = true
			sub.report(t.stepID, "%s tests %s "+format, append([]any{testPlace(sub, t), subjectName(t.subject)}, args...)...)
		}
		for _, t := range tests[wi] {
			value := strings.ToLower(strings.TrimSpace(t.value))
			if value == "" {
				continue
			}
			switch t.op {
			case "contains", "not_contains":
				if c := longer[subjectValue{t.subject, value}]; c != nil && c.total > 0 {
					once(t, value, "%s %q, which also matches %s used in this location: a contains test is a substring match",
						strings.ReplaceAll(t.op, "_", " "), t.value, quotedFirst(c.first, c.total))
				}
			case "eq", "in", "":
				if t.subject == "tag" || voc.dynamic[t.subject] || len(voc.written[t.subject]) == 0 {
					continue
				}
				if !p.loc.Complete {
					uncertain = true
					continue
				}
				w := written[t.subject]
				if w == nil {
					w = newWrittenValues(voc.written[t.subject])
					written[t.subject] = w
				}
				if w.folded[value] {
					continue
				}
				once(t, value, "is %q, but the workflow steps that write %s only write %s: unless a form, an import or a person sets that exact value, the test never matches",
					t.value, subjectName(t.subject), quotedValues(w.sorted))
			}
		}
		if uncertain {
			sub.notAssessed("the location is not complete, so whether workflows not analysed write the exact values this workflow tests is unknown")
		}
	}
}

// subjectValue is a value tested on a subject (a tag or a contact field), lower case.
type subjectValue struct{ subject, value string }

// collision is what a contains test's value also matches: the first few longer values of the
// location that contain it, in order, and how many there are.
type collision struct {
	first []string
	total int
}

// collisionsShown is how many colliding values a finding names; quotedFirst says how many more.
const collisionsShown = valuesShown

// containingValues finds, for every value a contains or not-contains test looks for, how many values
// of the same subject's vocabulary contain it without being it, and the first of them in sorted
// order. Each
// subject's vocabulary is scanned once against all of that subject's tested values together
// (substringIndex), so the cost is linear in the vocabulary and the matches, not their product.
func containingValues(idx *locIndex, voc *valueVocabulary, tests [][]valueTest) map[subjectValue]*collision {
	queries := map[string][]string{}
	out := map[subjectValue]*collision{}
	for _, ts := range tests {
		for _, t := range ts {
			if t.op != "contains" && t.op != "not_contains" {
				continue
			}
			value := strings.ToLower(strings.TrimSpace(t.value))
			key := subjectValue{t.subject, value}
			if _, dup := out[key]; value == "" || dup {
				continue
			}
			out[key] = &collision{}
			queries[t.subject] = append(queries[t.subject], value)
		}
	}
	for subject, patterns := range queries {
		x := newSubstringIndex(patterns)
		// The vocabulary is neither sorted nor deduplicated: a set skips repeats, and each test keeps
		// only its first few values in order, so the cost stays linear in the vocabulary.
		seen := map[string]bool{}
		for v := range eachOf(idx, voc.of(subject)) {
			if seen[*v] {
				continue
			}
			seen[*v] = true
			x.each(*v, func(i int) {
				if *v == patterns[i] {
					return
				}
				c := out[subjectValue{subject, patterns[i]}]
				c.first = insertSmallest(c.first, *v, collisionsShown)
				c.total++
			})
		}
	}
	return out
}

// insertSmallest adds v to sorted, a sorted list of at most n values, keeping the n smallest.
func insertSmallest(sorted []string, v string, n int) []string {
	at, _ := slices.BinarySearch(sorted, v)
	if at >= n {
		return sorted
	}
	if len(sorted) == n {
		sorted = sorted[:n-1]
	}
	return slices.Insert(sorted, at, v)
}

// writtenValues is what the steps of the location write to one field: the values in lower case, to
// test an exact match against, and sorted once each for a message.
type writtenValues struct {
	folded map[string]bool
	sorted []string
}

func newWrittenValues(values []string) *writtenValues {
	w := &writtenValues{folded: make(map[string]bool, len(values)), sorted: slices.Compact(slices.Sorted(slices.Values(values)))}
	for _, v := range values {
		w.folded[strings.ToLower(v)] = true
	}
	return w
}

// testPlace names where a test sits: the step holding the clause, or the trigger holding the filter.
func testPlace(p *pass, t valueTest) string {
	if t.trigger != nil {
		return "Trigger " + triggerLabel(t.trigger)
	}
	return stepTitle(p.g.step(t.stepID))
}

// subjectName says what a test looks at: "the tag", "field lead_status".
func subjectName(subject string) string {
	if subject == "tag" {
		return "the tag"
	}
	return "field " + strings.TrimPrefix(subject, "contact.")
}
