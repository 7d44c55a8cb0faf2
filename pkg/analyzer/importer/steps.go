package importer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// stepType is what the importer knows about one action type.
type stepType struct {
	kind    string
	channel string // message channel, for KindMessage
	op      string // opportunity, contact or enrollment operation
	legacy  bool   // deprecated opportunity action
}

// stepTypes maps action types (after normKey) to kinds. GHL's builder keys come from its action
// catalogue (ghl-research.md §2.4); the auditor bundle's own spellings are listed beside them. A type
// missing here is kept as KindUnknown so the analyzer names it (WD039).
var stepTypes = map[string]stepType{
	// Messages to the contact.
	"sms":                      {kind: analyzer.KindMessage, channel: analyzer.ChannelSMS},
	"mms":                      {kind: analyzer.KindMessage, channel: analyzer.ChannelSMS},
	"send_sms":                 {kind: analyzer.KindMessage, channel: analyzer.ChannelSMS},
	"email":                    {kind: analyzer.KindMessage, channel: analyzer.ChannelEmail},
	"send_email":               {kind: analyzer.KindMessage, channel: analyzer.ChannelEmail},
	"call":                     {kind: analyzer.KindMessage, channel: analyzer.ChannelCall},
	"voicemail":                {kind: analyzer.KindMessage, channel: analyzer.ChannelVoicemail},
	"messenger":                {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"facebook_message":         {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"fb_interactive_messenger": {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"instagram_dm":             {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"instagram_message":        {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"ig_interactive_messenger": {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"gmb":                      {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"gmb_message":              {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"respond_on_comment":       {kind: analyzer.KindMessage, channel: analyzer.ChannelSocial},
	"whatsapp":                 {kind: analyzer.KindMessage, channel: analyzer.ChannelWhatsApp},
	"whatsapp_v2":              {kind: analyzer.KindMessage, channel: analyzer.ChannelWhatsApp},
	"review_request":           {kind: analyzer.KindMessage, channel: analyzer.ChannelReview},

	"internal_notification":      {kind: analyzer.KindNotification},
	"send_internal_notification": {kind: analyzer.KindNotification},

	"wait":             {kind: analyzer.KindWait},
	"event_start_wait": {kind: analyzer.KindWait},

	"if_else":     {kind: analyzer.KindCondition},
	"ifelse":      {kind: analyzer.KindCondition},
	"condition":   {kind: analyzer.KindCondition},
	"conditional": {kind: analyzer.KindCondition},

	"workflow_split": {kind: analyzer.KindSplit},
	"split":          {kind: analyzer.KindSplit},

	"goto":  {kind: analyzer.KindGoto},
	"go_to": {kind: analyzer.KindGoto},

	"add_to_workflow":           {kind: analyzer.KindEnroll},
	"remove_from_workflow":      {kind: analyzer.KindUnenroll},
	"remove_workflow":           {kind: analyzer.KindUnenroll},
	"remove_from_all_workflows": {kind: analyzer.KindUnenroll, op: "all"},

	"add_contact_tag":    {kind: analyzer.KindTagAdd},
	"add_tag":            {kind: analyzer.KindTagAdd},
	"remove_contact_tag": {kind: analyzer.KindTagRemove},
	"remove_tag":         {kind: analyzer.KindTagRemove},

	"update_contact_field": {kind: analyzer.KindFieldUpdate},
	"update_field":         {kind: analyzer.KindFieldUpdate},
	"update_custom_value":  {kind: analyzer.KindCustomValue},

	"internal_create_opportunity": {kind: analyzer.KindOpportunity, op: "create"},
	"internal_update_opportunity": {kind: analyzer.KindOpportunity, op: "update"},
	"update_opportunity":          {kind: analyzer.KindOpportunity, op: "update"},
	"find_opportunity":            {kind: analyzer.KindOpportunity, op: "find"},
	"remove_opportunity":          {kind: analyzer.KindOpportunity, op: "remove"},
	// create_opportunity is the current create action; only the combined create-and-update key is
	// legacy (an open-source auditor's calibration on live accounts, ghl-research.md §2.4).
	"create_opportunity":        {kind: analyzer.KindOpportunity, op: "create"},
	"create_update_opportunity": {kind: analyzer.KindOpportunity, op: "create_or_update", legacy: true},

	"create_update_contact":   {kind: analyzer.KindContact, op: "create_or_update"},
	"create_contact":          {kind: analyzer.KindContact, op: "create"},
	"find_contact":            {kind: analyzer.KindContact, op: "find"},
	"update_contact":          {kind: analyzer.KindContact, op: "update"},
	"internal_delete_contact": {kind: analyzer.KindContact, op: "delete"},
	"delete_contact":          {kind: analyzer.KindContact, op: "delete"},

	"assign_user":                    {kind: analyzer.KindAssignUser},
	"internal_add_opportunity_owner": {kind: analyzer.KindAssignUser},
	"assign_round_robin":             {kind: analyzer.KindAssignUser},

	"webhook":        {kind: analyzer.KindWebhook},
	"custom_webhook": {kind: analyzer.KindWebhook},

	"workflow_goal": {kind: analyzer.KindGoal},
	"goal_event":    {kind: analyzer.KindGoal},

	"dnd_contact": {kind: analyzer.KindDND},

	"event_start_date":          {kind: analyzer.KindEventStartDate},
	"update_appointment_status": {kind: analyzer.KindAppointment},

	// Known actions with no behaviour the rules reason about. Manual SMS and call steps create a task
	// for a user; they do not message the contact by themselves.
	"manual_sms":                 {kind: analyzer.KindAction},
	"manual_call":                {kind: analyzer.KindAction},
	"add_notes":                  {kind: analyzer.KindAction},
	"task_notification":          {kind: analyzer.KindAction},
	"add_task":                   {kind: analyzer.KindAction},
	"edit_conversation":          {kind: analyzer.KindAction},
	"remove_assigned_user":       {kind: analyzer.KindAction},
	"copy_contact_to_subaccount": {kind: analyzer.KindAction},
	"datetime_formatter":         {kind: analyzer.KindAction},
	"number_formatter":           {kind: analyzer.KindAction},
	"text_formatter":             {kind: analyzer.KindAction},
	"math_operation":             {kind: analyzer.KindAction},
	"array_functions":            {kind: analyzer.KindAction},
	"drip":                       {kind: analyzer.KindAction},
	"custom_code":                {kind: analyzer.KindAction},
	"google_sheets":              {kind: analyzer.KindAction},
	"slack_message":              {kind: analyzer.KindAction},
	"ai_agent":                   {kind: analyzer.KindAction},
	"chatgpt":                    {kind: analyzer.KindAction},
	"conversation_ai":            {kind: analyzer.KindAction},
	"workflow_ai_decision_maker": {kind: analyzer.KindAction},
	"transition":                 {kind: analyzer.KindAction},
	// The auditor bundle's own action names.
	"book_appointment": {kind: analyzer.KindAction},
	"webhook_reply":    {kind: analyzer.KindAction},
	"ai_extract":       {kind: analyzer.KindAction},
	"ai_summarize":     {kind: analyzer.KindAction},
}

// lookupStepType returns what is known about an action type.
func lookupStepType(typ string) (stepType, bool) {
	t, ok := stepTypes[normKey(typ)]
	return t, ok
}

// stepInput is one step as a dialect reader hands it to interpret.
type stepInput struct {
	id, typ, name string
	// attrs holds the step's configuration: builder "attributes" or bundle "meta".
	attrs obj
	// attrsKey is the key attrs sits under in the step object ("attributes", "meta"), or "" when the
	// step object is its own configuration; unread parts are named by paths that start with it.
	attrsKey string
	dialect  string
	// workflowLocation is the location the workflow belongs to, to tell a foreign location id.
	workflowLocation string
}

// interpret fills a step's kind and typed parts from its type and configuration. Edges, shape and raw
// are the dialect reader's job.
func interpret(in stepInput) analyzer.Step {
	s := analyzer.Step{ID: in.id, Type: in.typ, Name: in.name, Kind: analyzer.KindUnknown}
	a := in.attrs
	if a == nil {
		a = obj{}
	}
	refs := &refSet{}
	t, known := lookupStepType(in.typ)
	if known {
		s.Kind = t.kind
	}
	switch s.Kind {
	case analyzer.KindMessage:
		s.Message = readMessage(a, t.channel, in.dialect)
		if s.Message.TemplateID != "" {
			refs.add(analyzer.RefTemplate, s.Message.TemplateID, "")
		}
		if s.Message.FromNumber != "" {
			refs.add(analyzer.RefPhoneNumber, s.Message.FromNumber, "")
		}
	case analyzer.KindNotification:
		s.Message = readNotification(a)
		if n := a.child("notification", "email", "sms"); n != nil {
			refs.addUsers(n)
		}
		refs.addList(analyzer.RefUser, a.get("users", "selectedUsers"))
	case analyzer.KindWait:
		s.Wait = readWait(a, normKey(in.typ), in.dialect)
	case analyzer.KindCondition:
		var skip func(obj) bool
		if in.dialect == DialectBundle {
			skip = bundleElseEntry(a)
		}
		s.Condition = &analyzer.Condition{Branches: readBranches(a, skip)}
	case analyzer.KindGoto:
		s.GotoTarget = gotoTarget(a)
	case analyzer.KindEnroll, analyzer.KindUnenroll:
		s.Enrollment = readEnrollment(a, s.Kind, t.op == "all")
		refs.addList(analyzer.RefWorkflow, s.Enrollment.WorkflowIDs)
	case analyzer.KindTagAdd, analyzer.KindTagRemove:
		s.Tags = stringList(a.get("tags", "tag", "tagName", "tag_name"))
	case analyzer.KindFieldUpdate:
		s.Fields = readFieldWrites(a)
		dnd := false
		for _, f := range s.Fields {
			if f.Field == "contact.dnd" {
				// Writing the contact's dnd field switches do-not-disturb like the DND action does.
				enable, _ := boolValue(f.Value)
				s.DND, dnd = &analyzer.DND{Enable: enable}, true
			} else if looksLikeID(f.Field) {
				refs.add(analyzer.RefCustomField, f.Field, "")
			}
		}
		if dnd && len(s.Fields) == 1 {
			s.Kind = analyzer.KindDND
		}
	case analyzer.KindCustomValue:
		refs.addList(analyzer.RefCustomValue, a.get("customValueId", "custom_value_id", "customValue", "custom_value"))
	case analyzer.KindOpportunity:
		var unread []analyzer.Unread
		s.Opportunity, unread = readOpportunity(a, t, refs)
		s.Unread = append(s.Unread, in.unread(unread)...)
	case analyzer.KindContact:
		s.Contact = &analyzer.ContactOp{Op: t.op}
	case analyzer.KindAssignUser:
		s.Assign = readAssign(a)
		refs.addList(analyzer.RefUser, s.Assign.UserIDs)
	case analyzer.KindWebhook:
		s.Webhook = readWebhook(a)
	case analyzer.KindGoal:
		var unread []analyzer.Unread
		s.Goal, unread = readGoal(a)
		s.Unread = append(s.Unread, in.unread(unread)...)
	case analyzer.KindDND:
		s.DND = readDND(a)
	}
	if s.Condition != nil {
		for _, b := range s.Condition.Branches {
			refs.addClauseFields(b.Clauses)
		}
	}
	if s.Wait != nil {
		refs.addClauseFields(s.Wait.Conditions)
	}
	refs.addCommon(a, in.workflowLocation)
	s.Refs = refs.sorted()
	return s
}

// unread places unread parts, whose paths are relative to the step's configuration, under the key
// the configuration sits at, so each path is relative to the step object.
func (in stepInput) unread(us []analyzer.Unread) []analyzer.Unread {
	if in.attrsKey == "" {
		return us
	}
	for i := range us {
		us[i].Path = in.attrsKey + "." + us[i].Path
	}
	return us
}

// readMessage reads an outbound message. In the builder an email's content is "html" and its "body"
// is ignored by GHL (ghl-research.md §2.4); the auditor bundle writes an email's content in "body"
// and has "html" only for designed emails, so there a lone body is the HTML the contact receives.
func readMessage(a obj, channel, dialect string) *analyzer.Message {
	m := &analyzer.Message{
		Channel:    channel,
		Body:       a.str("body", "message", "text", "content"),
		Subject:    a.str("subject"),
		HTML:       a.str("html"),
		FromName:   a.str("from_name", "fromName"),
		TemplateID: a.str("templateId", "template_id", "emailTemplateId", "email_template_id", "smsTemplateId"),
	}
	if channel != analyzer.ChannelEmail {
		m.FromNumber = a.str("fromNumber", "from_number", "from")
	}
	if tr, ok := a.flag("transactional", "isTransactional", "is_transactional"); ok {
		m.Transactional = tr
	} else if strings.EqualFold(a.str("emailType", "email_type", "messageType"), "transactional") {
		m.Transactional = true
	}
	if dialect == DialectBundle && channel == analyzer.ChannelEmail && m.HTML == "" {
		m.HTML, m.Body = m.Body, ""
	}
	return m
}

// readNotification reads an internal notification as a message to the team: GHL nests the content
// under notification, email or sms by delivery (ghl-research.md §2.4); the bundle writes body or
// message with a channel. An in-app notification has no channel. It is not a message to the contact:
// its kind stays KindNotification.
func readNotification(a obj) *analyzer.Message {
	channel := strings.ToLower(a.str("channel"))
	inner := a.child("notification")
	switch normKey(a.str("type")) {
	case "email":
		channel, inner = analyzer.ChannelEmail, cmpObj(a.child("email"), inner)
	case "sms":
		channel, inner = analyzer.ChannelSMS, cmpObj(a.child("sms"), inner)
	}
	if inner == nil {
		inner = obj{}
	}
	switch channel {
	case analyzer.ChannelEmail, analyzer.ChannelSMS:
	default:
		channel = ""
	}
	return &analyzer.Message{
		Channel: channel,
		Body:    cmp.Or(inner.str("body", "message"), a.str("body", "message", "text")),
		Subject: cmp.Or(inner.str("subject", "title"), a.str("subject", "title")),
	}
}

func cmpObj(a, b obj) obj {
	if a != nil {
		return a
	}
	return b
}

// waitModes maps GHL's wait types and the bundle's waitType spellings to wait modes.
var waitModes = map[string]string{
	"time": analyzer.WaitTime, "delay": analyzer.WaitTime, "duration": analyzer.WaitTime, "fixed": analyzer.WaitTime,
	"time_delay": analyzer.WaitTime, "set_period": analyzer.WaitTime,
	"datetime": analyzer.WaitDateTime, "date_time": analyzer.WaitDateTime, "date": analyzer.WaitDateTime,
	"specific_date": analyzer.WaitDateTime, "specific_date_time": analyzer.WaitDateTime, "custom_date": analyzer.WaitDateTime,
	"appointment": analyzer.WaitAppointment, "appointment_time": analyzer.WaitAppointment,
	"appointment_start": analyzer.WaitAppointment, "before_appointment": analyzer.WaitAppointment,
	"event": analyzer.WaitEventTime, "event_time": analyzer.WaitEventTime, "event_start": analyzer.WaitEventTime,
	"event_start_date": analyzer.WaitEventTime,
	"reply":            analyzer.WaitReply, "contact_reply": analyzer.WaitReply, "customer_reply": analyzer.WaitReply,
	"wait_for_reply": analyzer.WaitReply, "replied": analyzer.WaitReply, "customer_replied": analyzer.WaitReply,
	"condition": analyzer.WaitCondition, "conditions": analyzer.WaitCondition, "specific_condition": analyzer.WaitCondition,
	"wait_for_condition": analyzer.WaitCondition, "until_condition": analyzer.WaitCondition,
	"trigger_link": analyzer.WaitTriggerLink, "link_click": analyzer.WaitTriggerLink, "trigger_link_clicked": analyzer.WaitTriggerLink,
	"contact_action": analyzer.WaitTriggerLink,
	"email_event":    analyzer.WaitEmailEvent, "email": analyzer.WaitEmailEvent,
	"recurring": analyzer.WaitRecurring,
}

// isEventWait reports whether a wait mode ends on an event and so may have a timeout.
func isEventWait(mode string) bool {
	switch mode {
	case analyzer.WaitReply, analyzer.WaitCondition, analyzer.WaitTriggerLink, analyzer.WaitEmailEvent:
		return true
	}
	return false
}

// readWait reads a wait step. The builder writes attributes.type with startAfter or
// appointmentStartAfter (shapes.md); the bundle writes waitType with delay ("2 days" or
// {value, unit}), value/unit, or offset. A builder event wait's timeout depends on its exits and is
// set by the builder reader after edges are built.
func readWait(a obj, typeKey, dialect string) *analyzer.Wait {
	declared := a.str("waitType", "wait_type", "mode")
	if declared == "" && normKey(a.str("type")) != typeKey {
		// A bundle step without meta is its own configuration; its "type" is the action, not a mode.
		declared = a.str("type")
	}
	delay, hasDelay := readDelay(a)
	mode := analyzer.WaitUnknown
	switch {
	case declared != "":
		if m, ok := waitModes[normKey(declared)]; ok {
			mode = m
		}
	case typeKey == "event_start_wait":
		mode = analyzer.WaitAppointment
	case hasDelay || a.has("startAfter"):
		mode = analyzer.WaitTime
	}
	w := &analyzer.Wait{Mode: mode, Window: readWindow(a.child("window", "timeWindow"))}
	switch mode {
	case analyzer.WaitTime:
		if dialect == DialectBuilder || a.has("startAfter") {
			w.Duration = readStartAfter(a.child("startAfter"))
		} else {
			w.Duration = delay
		}
	case analyzer.WaitAppointment, analyzer.WaitEventTime:
		w.Offset = readOffset(a.child("appointmentStartAfter", "offset", "eventStartAfter"))
	case analyzer.WaitCondition:
		w.Conditions = readWaitConditions(a)
	}
	if isEventWait(mode) && dialect != DialectBuilder {
		// The bundle gives an event wait's limit as its delay ("unlimited" meaning none) or as an
		// explicit timeout key.
		if t, ok := parseDuration(a.get("timeout", "timeOut", "maxWait", "max_wait", "timeoutAfter")); ok {
			w.Timeout = t
		} else if hasDelay {
			w.Timeout = delay
		}
	}
	return w
}

// readDelay reads the bundle's delay forms. ok is true when the step states a delay at all, even an
// unparseable one such as "unlimited", which then yields a nil duration.
func readDelay(a obj) (*analyzer.Duration, bool) {
	if v := a.get("delay", "duration", "wait"); v != nil {
		d, _ := parseDuration(v)
		return d, true
	}
	if a.has("value") && a.has("unit") {
		d, _ := parseDuration(map[string]any{"value": a["value"], "unit": a["unit"]})
		return d, true
	}
	return nil, false
}

// parseDuration reads "2 days", "45 minutes", {value, unit} or {type, value}. Words that mean no limit
// ("unlimited", "never", "none") and anything unreadable give nil.
func parseDuration(v any) (*analyzer.Duration, bool) {
	switch t := v.(type) {
	case string:
		parts := strings.Fields(strings.ToLower(t))
		if len(parts) == 1 {
			// "2d", "45m": split the number from its unit.
			i := strings.IndexFunc(parts[0], func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
			if i > 0 {
				parts = []string{parts[0][:i], parts[0][i:]}
			}
		}
		if len(parts) != 2 {
			return nil, false
		}
		n, err := strconv.ParseFloat(parts[0], 64)
		unit, ok := durationUnit(parts[1])
		if err != nil || !ok || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, false
		}
		return &analyzer.Duration{Value: n, Unit: unit}, true
	case map[string]any:
		o := obj(t)
		n, ok := o.number("value", "amount")
		if !ok {
			return nil, false
		}
		unit, ok := durationUnit(o.str("unit", "type"))
		if !ok {
			unit = "minutes"
		}
		return &analyzer.Duration{Value: n, Unit: unit}, true
	}
	return nil, false
}

// durationUnit normalizes a unit name to the plural forms analyzer.Duration.Minutes understands.
func durationUnit(u string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(u)) {
	case "s", "sec", "secs", "second", "seconds":
		return "seconds", true
	case "m", "min", "mins", "minute", "minutes":
		return "minutes", true
	case "h", "hr", "hrs", "hour", "hours":
		return "hours", true
	case "d", "day", "days":
		return "days", true
	case "w", "wk", "wks", "week", "weeks":
		return "weeks", true
	case "mo", "month", "months":
		return "months", true
	case "y", "yr", "yrs", "year", "years":
		return "years", true
	}
	return "", false
}

// readStartAfter reads the builder's startAfter. Absent or empty means the wait does not pause (nil);
// a present value of zero is kept as zero.
func readStartAfter(o obj) *analyzer.Duration {
	if o == nil {
		return nil
	}
	d, ok := parseDuration(map[string]any(o))
	if !ok {
		return nil
	}
	return d
}

// readOffset reads an appointment- or event-relative moment: the builder's
// {when, type, value (total minutes)} or the bundle's {value, unit, direction}.
func readOffset(o obj) *analyzer.Offset {
	if o == nil {
		return nil
	}
	d, ok := parseDuration(map[string]any(o))
	if !ok {
		return nil
	}
	when := strings.ToLower(o.str("when", "direction", "relation"))
	if when == "" {
		when = "before"
	}
	return &analyzer.Offset{When: when, Minutes: clampInt(d.Minutes())}
}

// readWindow reads a time window {days, start, end}. Days are 0-6 (Sunday = 0) or day names.
func readWindow(o obj) *analyzer.TimeWindow {
	if o == nil {
		return nil
	}
	w := &analyzer.TimeWindow{Start: o.str("start", "from", "startTime"), End: o.str("end", "to", "endTime")}
	for _, d := range o.list("days", "weekdays") {
		if n, ok := weekday(d); ok && !slices.Contains(w.Days, n) {
			w.Days = append(w.Days, n)
		}
	}
	if w.Start == "" && w.End == "" && len(w.Days) == 0 {
		return nil
	}
	return w
}

var dayNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

func weekday(v any) (int, bool) {
	if f, ok := numberValue(v); ok && f >= 0 && f <= 6 && f == math.Trunc(f) {
		return int(f), true
	}
	if s, ok := v.(string); ok && len(s) >= 3 {
		n, ok := dayNames[strings.ToLower(s[:3])]
		return n, ok
	}
	return 0, false
}

// readWaitConditions reads a condition wait's tests: attributes.condition.branches[].segments[]
// .conditions[] like an if/else, or a flat conditions list.
func readWaitConditions(a obj) []analyzer.Clause {
	var out []analyzer.Clause
	if c := a.child("condition"); c != nil {
		for _, b := range readBranches(c, nil) {
			out = append(out, b.Clauses...)
		}
	}
	if len(out) == 0 {
		for _, c := range a.list("conditions") {
			if o := asObj(c); o != nil {
				out = append(out, readClause(o))
			}
		}
	}
	return out
}

// readBranches reads an if/else's branches: branches[] with segments[].conditions[] (or their own
// flat conditions[]), or the older flat conditions[] as a single branch named "Yes". When the first
// branch has no tests of its own but the step has flat conditions, they are that branch's tests.
// Entries skip accepts (the bundle's explicit None branch) are not branches.
func readBranches(a obj, skip func(obj) bool) []analyzer.Branch {
	var out []analyzer.Branch
	for _, item := range a.list("branches") {
		e := asObj(item)
		if e == nil || (skip != nil && skip(e)) {
			continue
		}
		b := analyzer.Branch{
			ID:      e.str("id", "branchId", "__branchId"),
			Name:    e.str("name", "label", "title", "conditionName"),
			Clauses: []analyzer.Clause{},
		}
		for _, seg := range e.list("segments") {
			if so := asObj(seg); so != nil {
				b.Clauses = append(b.Clauses, readClauses(so.list("conditions"))...)
			}
		}
		b.Clauses = append(b.Clauses, readClauses(e.list("conditions"))...)
		out = append(out, b)
	}
	flat := readClauses(a.list("conditions"))
	switch {
	case len(out) == 0 && len(flat) > 0:
		out = append(out, analyzer.Branch{Name: "Yes", Clauses: flat})
	case len(out) > 0 && len(out[0].Clauses) == 0 && len(flat) > 0:
		out[0].Clauses = flat
	}
	return out
}

// bundleElseEntry returns the test, to apply to a step's branch entries in order, for the entry that is
// the automatic None branch written out: the first one marked else, or named None, Else, Otherwise,
// Default or the step's noneBranchName. Later entries like it are ordinary branches.
func bundleElseEntry(a obj) func(obj) bool {
	noneName := strings.TrimSpace(a.str("noneBranchName"))
	found := false
	return func(e obj) bool {
		if found {
			return false
		}
		name := strings.TrimSpace(e.str("name", "label", "title"))
		switch normKey(name) {
		case "none", "else", "otherwise", "default":
			found = true
		}
		found = found || e.truthy("else") || (noneName != "" && strings.EqualFold(name, noneName))
		return found
	}
}

func readClauses(items []any) []analyzer.Clause {
	out := []analyzer.Clause{}
	for _, item := range items {
		if o := asObj(item); o != nil {
			out = append(out, readClause(o))
		}
	}
	return out
}

// readClause reads one test: the builder's {conditionType, conditionSubType, conditionOperator,
// conditionValue} or the flat {field, operator, value} and {tag: x} forms.
func readClause(c obj) analyzer.Clause {
	var subject, op string
	var value any
	switch {
	case c.has("conditionType", "conditionSubType", "conditionOperator"):
		subject = clauseSubject(c.str("conditionType"), c.str("conditionSubType"))
		op = c.str("conditionOperator", "operator")
		value = c.get("conditionValue", "value")
	case c.has("field", "key", "subject"):
		subject = fieldSubject(c.str("field", "key", "subject"))
		op = c.str("operator", "conditionOperator")
		value = c.get("value", "values")
	case c.has("tag", "tags"):
		subject = "tag"
		op = c.str("operator")
		value = c.get("tag", "tags")
	default:
		subject = c.str("type", "title")
		op = c.str("operator")
		value = c.get("value")
	}
	n := len(asList(value))
	cl := analyzer.Clause{Subject: subject, Operator: normOperator(op, n), Value: valueText(value)}
	if cl.Operator == "" {
		cl.Operator = "has_value"
		if cl.Value != "" {
			cl.Operator = "eq"
		}
	}
	return cl
}

// clauseSubject maps the builder's conditionType and conditionSubType to a clause subject.
func clauseSubject(condType, sub string) string {
	t := normKey(condType)
	nsub := normKey(sub)
	switch {
	case t == "contact_detail" || t == "contact" || t == "contact_field" || t == "custom_field":
		switch {
		case nsub == "tags" || nsub == "tag":
			return "tag"
		case sub == "":
			return "contact"
		case strings.HasPrefix(sub, "contact."):
			return sub
		}
		return "contact." + sub
	case t == "tag" || t == "tags" || t == "contact_tag" || t == "has_tag":
		return "tag"
	case t == "contact_reply" || t == "reply" || t == "replied" || t == "customer_reply" || t == "contact_replied":
		return "reply"
	case strings.HasPrefix(t, "appointment"):
		return joinSubject("appointment", sub)
	case strings.HasPrefix(t, "opportunit"):
		return joinSubject("opportunity", sub)
	case t == "workflow" || t == "in_workflow" || t == "is_in_workflow" || t == "contact_in_workflow":
		return "workflow"
	}
	return condType
}

func joinSubject(prefix, sub string) string {
	if sub == "" {
		return prefix
	}
	if strings.HasPrefix(sub, prefix+".") {
		return sub
	}
	return prefix + "." + sub
}

// fieldSubject maps a flat condition's field to a clause subject.
func fieldSubject(field string) string {
	switch normKey(field) {
	case "tag", "tags", "contact.tags", "contact_tags", "tags_added":
		return "tag"
	case "reply", "replied", "contact_reply", "customer_replied", "contact_replied":
		return "reply"
	}
	return field
}

// operators maps the operator spellings of GHL and the bundle to the normalized set.
var operators = map[string]string{
	"==": "eq", "=": "eq", "eq": "eq", "is": "eq", "equals": "eq", "equal": "eq", "equal_to": "eq",
	"is_equal_to": "eq", "index_of_true": "eq",
	"!=": "neq", "<>": "neq", "neq": "neq", "ne": "neq", "is_not": "neq", "not_equal": "neq",
	"not_equals": "neq", "not_equal_to": "neq", "index_of_false": "neq",
	"in": "in", "is_any_of": "in", "any_of": "in", "one_of": "in",
	"not_in": "not_in", "is_none_of": "not_in", "none_of": "not_in", "is_not_any_of": "not_in",
	"contains": "contains", "contain": "contains", "includes": "contains", "string_contains": "contains",
	"string_contains_any_of": "contains", "contains_any_of": "contains", "contains_phrase": "contains",
	"not_contains": "not_contains", "does_not_contain": "not_contains", "not_contain": "not_contains",
	"string_not_contains": "not_contains", "doesnt_contain": "not_contains",
	"has_changed": "has_changed", "changed": "has_changed",
	"has_value": "has_value", "exists": "has_value", "is_not_empty": "has_value", "not_empty": "has_value",
	"is_set":       "has_value",
	"has_no_value": "has_no_value", "not_exists": "has_no_value", "does_not_exist": "has_no_value",
	"is_empty": "has_no_value", "empty": "has_no_value", "is_not_set": "has_no_value",
	">": "gt", "gt": "gt", "greater_than": "gt", "is_greater_than": "gt", "after": "gt",
	">=": "gte", "gte": "gte", "greater_than_or_equal": "gte", "greater_than_or_equal_to": "gte",
	"<": "lt", "lt": "lt", "less_than": "lt", "is_less_than": "lt", "before": "lt",
	"<=": "lte", "lte": "lte", "less_than_or_equal": "lte", "less_than_or_equal_to": "lte",
}

// normOperator normalizes an operator. Equality against several values is "in" (and its negation
// "not_in"), against one value "eq", so GHL's "index-of-true" with one tag and the bundle's bare
// {"tag": "x"} compare equal. Unknown operators are kept lower-cased as written.
func normOperator(op string, values int) string {
	raw := strings.TrimSpace(op)
	if raw == "" {
		return ""
	}
	key := raw
	if !strings.ContainsAny(raw, "=<>!") {
		key = normKey(raw)
	}
	n, ok := operators[key]
	if !ok {
		return strings.ToLower(raw)
	}
	switch {
	case n == "eq" && values > 1:
		return "in"
	case n == "neq" && values > 1:
		return "not_in"
	case n == "in" && values == 1:
		return "eq"
	case n == "not_in" && values == 1:
		return "neq"
	}
	return n
}

// gotoTarget reads a go-to's target step: targetNodeId (real accounts), targetId (documented
// alternative) or the bundle's targetStepId.
func gotoTarget(a obj) string {
	return a.str("targetNodeId", "targetId", "targetStepId", "target_node_id", "target_id", "target")
}

// readEnrollment reads add/remove-from-workflow. workflow_id is a scalar or an array; GHL's remove step
// needs an array and silently removes nothing when given a bare string (shapes in ghl-research.md §2.4).
func readEnrollment(a obj, kind string, all bool) *analyzer.Enrollment {
	v := a.get("workflow_id", "workflowId", "workflowIds", "workflow_ids", "targetWorkflowId", "targetWorkflowIds", "workflow")
	e := &analyzer.Enrollment{WorkflowIDs: stringList(v)}
	if e.WorkflowIDs == nil {
		e.WorkflowIDs = []string{}
	}
	if _, bare := v.(string); bare && kind == analyzer.KindUnenroll {
		e.BareString = true
	}
	e.All = all || a.truthy("allWorkflows", "all_workflows", "removeFromAll", "all")
	return e
}

// readFieldWrites reads update-field steps: fields[] of {field, value}, a fields object keyed by
// field, the documented fieldKey/fieldValue pair, or the bundle's field/value.
func readFieldWrites(a obj) []analyzer.FieldWrite {
	var out []analyzer.FieldWrite
	add := func(field string, value any) {
		if f := fieldRef(field); f != "" {
			out = append(out, analyzer.FieldWrite{Field: f, Value: valueText(value)})
		}
	}
	switch fs := a.get("fields").(type) {
	case []any:
		for _, item := range fs {
			if o := asObj(item); o != nil {
				add(o.str("field", "fieldKey", "key", "id", "fieldId"), o.get("value", "fieldValue"))
			}
		}
	case map[string]any:
		o := obj(fs)
		if o.has("field", "fieldKey", "key") {
			add(o.str("field", "fieldKey", "key"), o.get("value", "fieldValue"))
			break
		}
		for _, k := range sortedKeys(fs) {
			add(k, fs[k])
		}
	}
	if len(out) == 0 {
		if f := a.str("fieldKey", "field_key", "field", "fieldId", "customFieldId"); f != "" {
			add(f, a.get("fieldValue", "field_value", "value"))
		}
	}
	return out
}

// fieldRef normalizes a field reference: a custom field id stays as is, a merge key loses its braces,
// and a bare key ("lead_state", "dnd") becomes "contact.<key>" like the keys trigger filters use.
func fieldRef(field string) string {
	f := unbrace(field)
	switch {
	case f == "" || looksLikeID(f) || strings.Contains(f, "."):
		return f
	}
	return "contact." + f
}

// opportunityFilterKeys are the keys of __customInputFields__ entries the opportunity reader uses.
var opportunityFilterKeys = map[string]bool{
	"pipeline_id": true, "pipeline": true, "pipeline_stage_id": true, "stage_id": true, "stage": true,
	"status": true, "opportunity_status": true,
}

// readOpportunity reads opportunity steps. GHL keeps the stage and values in __customInputFields__
// ({filterField, value}) where an audit reading attributes.stageId finds nothing. A find step's entry
// may hold an operator in value and the id in another key (secondValue): a value that cannot be an
// id (an operator word, a merge field, nothing) is never taken as one; the entry's other keys are
// searched, and when none holds one the entry is returned as unread. Only ids given under id keys
// become references: the bundle's pipeline/stage keys hold names.
func readOpportunity(a obj, t stepType, refs *refSet) (*analyzer.Opportunity, []analyzer.Unread) {
	o := &analyzer.Opportunity{Op: t.op, Legacy: t.legacy}
	var unread []analyzer.Unread
	custom := map[string]any{}
	listKey := firstKey(a, "__customInputFields__", "customInputFields")
	for i, item := range a.list("__customInputFields__", "customInputFields") {
		f := asObj(item)
		if f == nil {
			continue
		}
		field := f.str("filterField", "field", "key")
		k := normKey(field)
		if _, dup := custom[k]; k == "" || dup {
			continue
		}
		v, ok := filterIDValue(f)
		switch {
		case ok:
			custom[k] = v
		case opportunityFilterKeys[k]:
			unread = append(unread, analyzer.Unread{Path: fmt.Sprintf("%s[%d]", listKey, i), Key: field})
			// Taken, so a later entry for the same field is not read in its place.
			custom[k] = nil
		}
	}
	cf := obj(custom)
	idOf := func(keys ...string) string {
		for _, k := range keys {
			if v := a.str(k); v != "" {
				if !isIDValue(v) {
					unread = append(unread, analyzer.Unread{Path: k, Key: k})
					return ""
				}
				return v
			}
		}
		return ""
	}
	o.PipelineID = idOf("pipelineId", "pipeline_id")
	if o.PipelineID == "" {
		o.PipelineID = cf.str("pipeline_id", "pipeline")
	}
	o.StageID = idOf("stageId", "stage_id", "pipelineStageId", "pipeline_stage_id")
	if o.StageID == "" {
		o.StageID = cf.str("pipeline_stage_id", "stage_id", "stage")
	}
	if o.PipelineID != "" {
		refs.add(analyzer.RefPipeline, o.PipelineID, "")
	}
	if o.StageID != "" {
		refs.add(analyzer.RefStage, o.StageID, o.PipelineID)
	}
	if o.PipelineID == "" {
		o.PipelineID = a.str("pipeline", "pipelineName")
	}
	if o.StageID == "" {
		o.StageID = a.str("stage", "stageName")
	}
	o.Status = a.str("status", "opportunityStatus", "opportunity_status")
	if o.Status == "" {
		o.Status = cf.str("status", "opportunity_status")
	}
	return o, unread
}

// filterIDValue returns the value of a {filterField, value, ...} entry: its value when that can be
// one, else the first other key holding something that can (secondValue and its spellings first).
func filterIDValue(f obj) (string, bool) {
	if v := f.str("value"); isIDValue(v) {
		return v, true
	}
	for _, k := range []string{"secondValue", "second_value", "value2", "filterValue", "filter_value", "id", "values"} {
		for _, item := range asList(f.get(k)) {
			if v, ok := scalarString(item); ok && isIDValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// isIDValue reports whether a value can name an object: not empty, not a merge field (filled in at
// run time) and not a comparison operator (eq, "==", is_not...).
func isIDValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || isMergeField(v) {
		return false
	}
	key := v
	if !strings.ContainsAny(v, "=<>!") {
		key = normKey(v)
	}
	_, op := operators[key]
	return !op
}

// readAssign reads assign-user steps: user_list[] (or the bundle's users[]) and a merge-field user.
func readAssign(a obj) *analyzer.Assign {
	as := &analyzer.Assign{
		UserIDs:    stringList(a.get("user_list", "userList", "users", "userIds", "user_ids", "userId", "user_id")),
		MergeField: a.str("customUserList", "custom_user_list"),
	}
	if as.UserIDs == nil {
		as.UserIDs = []string{}
	}
	return as
}

// readWebhook reads webhook and custom-webhook steps. Bodies given as objects (custom_webhook's
// {rawData, keyValueData}, or a JSON payload) become their raw template or compact JSON; header maps
// are read in key order.
func readWebhook(a obj) *analyzer.Webhook {
	w := &analyzer.Webhook{Method: strings.ToUpper(a.str("method", "httpMethod")), URL: a.str("url", "webhookUrl", "webhook_url")}
	switch h := a.get("headers").(type) {
	case []any:
		for _, item := range h {
			if o := asObj(item); o != nil {
				w.Headers = append(w.Headers, analyzer.Header{Key: o.str("key", "name"), Value: valueText(o.get("value"))})
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(h) {
			w.Headers = append(w.Headers, analyzer.Header{Key: k, Value: valueText(h[k])})
		}
	}
	switch b := a.get("body", "payload", "data").(type) {
	case map[string]any:
		if raw, ok := b["rawData"].(string); ok && raw != "" {
			w.Body = raw
		} else {
			w.Body = jsonText(b)
		}
	default:
		w.Body = valueText(b)
	}
	return w
}

// goalStructureKeys are keys of a step object that describe its place in the workflow, not its goal,
// when the step object is its own configuration (the bundle without meta).
var goalStructureKeys = map[string]bool{
	"id": true, "_id": true, "type": true, "name": true, "title": true, "label": true, "next": true,
	"parentKey": true, "parent_key": true, "parentId": true, "order": true, "cat": true, "nodeType": true,
}

// readGoal reads a goal-event step. GHL's exact attribute keys for goal events are not published
// (ghl-research.md §4), so the common spellings are read: goalType or event (with value, tags...), a
// goal object, and segments[].conditions[] (or conditions[]) whose conditions name the goal event
// and its values, as an if/else writes its tests. When none of them names an event but the step
// holds other structured data (an object or a list, or a key about goals, events, segments,
// conditions or filters), the goal is in a shape this reader does not know: those keys are returned
// as unread, and the goal is unknown rather than missing.
func readGoal(a obj) (*analyzer.Goal, []analyzer.Unread) {
	g := &analyzer.Goal{Type: a.str("goalType", "goal_type", "event", "eventType", "goalEvent", "goal_event")}
	inner := a.child("goal")
	if inner != nil {
		g.Type = cmp.Or(g.Type, inner.str("type", "goalType", "event", "eventType"))
		g.Value = inner.str("value", "tag", "tags", "id")
	}
	g.Value = cmp.Or(g.Value, a.str("value", "tag", "tags", "formId", "linkId", "status"))
	if g.Value == "" {
		g.Value = strings.Join(stringList(a.get("tags")), ",")
	}
	if g.Type == "" {
		for _, holder := range []obj{a, inner} {
			if holder == nil {
				continue
			}
			if typ, value := goalFromConditions(holder); typ != "" {
				g.Type, g.Value = typ, cmp.Or(g.Value, value)
				break
			}
		}
	}
	if g.Type != "" {
		return g, nil
	}
	var unread []analyzer.Unread
	for _, k := range sortedKeys(a) {
		if goalStructureKeys[k] || a[k] == nil {
			continue
		}
		lower := strings.ToLower(k)
		_, isObj := a[k].(map[string]any)
		_, isList := a[k].([]any)
		if isObj || isList || strings.Contains(lower, "goal") || strings.Contains(lower, "event") || strings.Contains(lower, "segment") ||
			strings.Contains(lower, "condition") || strings.Contains(lower, "filter") {
			unread = append(unread, analyzer.Unread{Path: k, Key: k})
		}
	}
	return g, unread
}

// goalFromConditions reads a goal event from segments[].conditions[] or conditions[]: the first
// condition naming an event gives the goal's type (with its subtype, "contact_tag.added") and values.
func goalFromConditions(o obj) (typ, value string) {
	var conds []any
	for _, seg := range o.list("segments") {
		if so := asObj(seg); so != nil {
			conds = append(conds, so.list("conditions", "filters")...)
		}
	}
	conds = append(conds, o.list("conditions", "filters")...)
	for _, c := range conds {
		co := asObj(c)
		if co == nil {
			continue
		}
		event := co.str("goalType", "goal_type", "eventType", "event", "conditionType", "type", "field")
		if event == "" {
			continue
		}
		if sub := co.str("conditionSubType", "subType", "sub_type"); sub != "" {
			event += "." + sub
		}
		return event, valueText(co.get("conditionValue", "value", "values", "tags", "tag"))
	}
	return "", ""
}

// readDND reads the DND action: dnd_contact "enable" or "disable" and the channels it applies to
// (all when none are listed).
func readDND(a obj) *analyzer.DND {
	d := &analyzer.DND{Channels: stringList(a.get("specific_channels", "channels", "channel", "dnd_channels"))}
	if v := a.get("dnd_contact", "dndStatus", "dnd_status", "enable", "status", "dnd"); v != nil {
		d.Enable, _ = boolValue(v)
	}
	return d
}

// refSet collects a step's references without duplicates.
type refSet struct {
	refs []analyzer.Ref
	seen map[analyzer.Ref]bool
}

func (r *refSet) add(kind, id, parent string) {
	id = strings.TrimSpace(id)
	if id == "" || isMergeField(id) {
		return
	}
	ref := analyzer.Ref{Kind: kind, ID: id, Parent: parent}
	if r.seen == nil {
		r.seen = map[analyzer.Ref]bool{}
	}
	if !r.seen[ref] {
		r.seen[ref] = true
		r.refs = append(r.refs, ref)
	}
}

func (r *refSet) addList(kind string, v any) {
	switch t := v.(type) {
	case []string:
		for _, id := range t {
			r.add(kind, id, "")
		}
	default:
		for _, id := range stringList(v) {
			r.add(kind, id, "")
		}
	}
}

// addUsers collects notification recipients.
func (r *refSet) addUsers(o obj) {
	r.addList(analyzer.RefUser, o.get("userIds", "user_ids", "users", "userId", "user_id", "selectedUsers"))
}

// addClauseFields collects the custom fields tests name by id ("contact.<field id>").
func (r *refSet) addClauseFields(clauses []analyzer.Clause) {
	for _, c := range clauses {
		if id, ok := strings.CutPrefix(c.Subject, "contact."); ok && looksLikeID(id) {
			r.add(analyzer.RefCustomField, id, "")
		}
	}
}

// addCommon collects the references any step may carry under their usual keys.
func (r *refSet) addCommon(a obj, workflowLocation string) {
	r.addList(analyzer.RefCalendar, a.get("calendarId", "calendar_id", "calendarIds", "calendar_ids"))
	r.addList(analyzer.RefUser, a.get("userId", "user_id", "userIds", "user_ids", "recipientUserId",
		"recipient_user_id", "assignedTo", "assigned_to", "assignedUserId"))
	r.addList(analyzer.RefCustomField, a.get("customFieldId", "custom_field_id"))
	r.addList(analyzer.RefTemplate, a.get("templateId", "template_id", "emailTemplateId", "email_template_id", "smsTemplateId"))
	r.addList(analyzer.RefForm, a.get("formId", "form_id"))
	if pid := a.str("pipelineId", "pipeline_id"); pid != "" {
		r.add(analyzer.RefPipeline, pid, "")
		if sid := a.str("stageId", "stage_id", "pipelineStageId", "pipeline_stage_id"); sid != "" {
			r.add(analyzer.RefStage, sid, pid)
		}
	}
	for _, loc := range stringList(a.get("locationId", "location_id")) {
		if loc != workflowLocation {
			r.add(analyzer.RefLocation, loc, "")
		}
	}
}

// sorted returns the references ordered by kind, parent and id, or nil when there are none.
func (r *refSet) sorted() []analyzer.Ref {
	if len(r.refs) == 0 {
		return nil
	}
	slices.SortFunc(r.refs, func(a, b analyzer.Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Parent, b.Parent), cmp.Compare(a.ID, b.ID))
	})
	return r.refs
}
