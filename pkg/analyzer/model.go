// Package analyzer is ghl-debugger's domain: the normalized workflow model, the importers for every
// input dialect, the rule catalogue, the checks and the scoring. It imports no HTTP, SQL or cache code,
// so the same analysis runs in the service and in the command-line tool.
package analyzer

import "encoding/json"

// Location is the unit of analysis: the workflows of one GHL sub-account and, when known, its context.
// A single workflow analysed on its own is a Location with one workflow and no context.
type Location struct {
	// ID is the GHL location id when the input names it.
	ID string `json:"id,omitempty"`
	// Context describes the objects the workflows refer to. Nil means unknown: rules that need it are
	// reported as not assessed.
	Context *Context `json:"context,omitempty"`
	// Workflows are the location's workflows in input order.
	Workflows []Workflow `json:"workflows"`
	// Complete says the workflows are every workflow of the location, so cross-workflow rules (LOC) can
	// conclude that something is absent. An import of a whole location or bundle sets it; a single
	// workflow does not.
	Complete bool `json:"complete"`
}

// Context is the location's objects that workflows reference. In every list nil means unknown (the
// input did not say) and an empty list means the location has none.
type Context struct {
	Tags          []string       `json:"tags"`
	CustomFields  []CustomField  `json:"customFields"`
	CustomValues  []CustomValue  `json:"customValues"`
	Calendars     []Object       `json:"calendars"`
	Users         []Object       `json:"users"`
	Pipelines     []Pipeline     `json:"pipelines"`
	Forms         []Object       `json:"forms"`
	Surveys       []Object       `json:"surveys"`
	Templates     []Object       `json:"templates"`
	PhoneNumbers  []PhoneNumber  `json:"phoneNumbers"`
	SMSCompliance *SMSCompliance `json:"smsCompliance"`
}

// Object is any location object known by id and name (calendar, user, form, survey, template).
type Object struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// CustomField is a contact custom field. Key is its merge key, such as "contact.budget".
type CustomField struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Key      string `json:"key,omitempty"`
	DataType string `json:"dataType,omitempty"`
}

// CustomValue is a location-wide custom value. Key is its merge key without braces, such as
// "custom_values.booking_link".
type CustomValue struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Pipeline is an opportunity pipeline with its stages.
type Pipeline struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Stages []Object `json:"stages"`
}

// PhoneNumber is a sending number of the location.
type PhoneNumber struct {
	Number    string `json:"number"`
	Name      string `json:"name,omitempty"`
	SMS       bool   `json:"sms"`
	IsDefault bool   `json:"isDefault"`
}

// SMSCompliance is the location's SMS compliance setting: GHL can append opt-out text and the sender's
// name to the first (or every) message.
type SMSCompliance struct {
	Enabled                    bool   `json:"enabled"`
	AutoAppendOptOut           bool   `json:"autoAppendOptOut"`
	OptOutMessage              string `json:"optOutMessage,omitempty"`
	AppendSenderIdentification bool   `json:"appendSenderIdentification"`
	SenderIdentification       string `json:"senderIdentification,omitempty"`
	ApplyTo                    string `json:"applyTo,omitempty"`
	ReinsertAfterDays          int    `json:"reinsertAfterDays,omitempty"`
}

// Workflow status values.
const (
	StatusPublished = "published"
	StatusDraft     = "draft"
)

// Workflow is one GHL workflow in normalized form.
type Workflow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Version int    `json:"version,omitempty"`
	// LocationID is the location the workflow document says it belongs to (used to spot clones).
	LocationID string    `json:"locationId,omitempty"`
	Settings   Settings  `json:"settings"`
	Triggers   []Trigger `json:"triggers"`
	Steps      []Step    `json:"steps"`
	Edges      []Edge    `json:"edges"`
	// Root is the step a trigger without an explicit entry starts at; empty when the workflow has no steps.
	Root string `json:"root,omitempty"`
	// Dialect names the input dialect the workflow was read from.
	Dialect string `json:"dialect,omitempty"`
}

// Settings are the workflow-level settings.
type Settings struct {
	AllowReEntry              bool `json:"allowReEntry"`
	AllowMultipleOpportunity  bool `json:"allowMultipleOpportunity"`
	StopOnResponse            bool `json:"stopOnResponse"`
	RemoveContactFromLastStep bool `json:"removeContactFromLastStep"`
	AutoMarkAsRead            bool `json:"autoMarkAsRead"`
	// Timezone is "contact", "account", an IANA name, or empty (the account's).
	Timezone string `json:"timezone,omitempty"`
	// TimeWindow is a workflow-wide window for outbound steps, when the input has one.
	TimeWindow *TimeWindow `json:"timeWindow,omitempty"`
	// Cloned is true when the workflow came from a snapshot, recipe or another location.
	Cloned bool `json:"cloned,omitempty"`
}

// TimeWindow lets contacts continue only on Days (Sunday = 0) between Start and End ("HH:MM").
type TimeWindow struct {
	Days  []int  `json:"days,omitempty"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// Trigger types the rules reason about. Importers map GHL's aliases onto these; any other type is kept
// as it was written.
const (
	TriggerContactTag          = "contact_tag"
	TriggerContactChanged      = "contact_changed"
	TriggerContactCreated      = "contact_created"
	TriggerCustomerReply       = "customer_reply"
	TriggerFormSubmitted       = "form_submitted"
	TriggerSurveySubmitted     = "survey_submitted"
	TriggerAppointment         = "appointment"
	TriggerCustomerAppointment = "customer_appointment"
	TriggerPipelineStage       = "pipeline_stage_changed"
	TriggerOpportunityStatus   = "opportunity_status_changed"
	TriggerOpportunityCreated  = "opportunity_created"
	TriggerInvoice             = "invoice"
	TriggerInboundWebhook      = "inbound_webhook"
	TriggerCallStatus          = "call_status"
	TriggerDND                 = "dnd_contact"
	TriggerTriggerLink         = "trigger_link"
	TriggerUnknown             = "unknown"
)

// Trigger starts contacts into the workflow.
type Trigger struct {
	ID string `json:"id,omitempty"`
	// Type is the normalized type (one of the Trigger constants or the input's own type).
	Type string `json:"type"`
	// RawType is the type as the input spelled it.
	RawType string `json:"rawType,omitempty"`
	// Known is false when the importer did not recognise the type (WD039).
	Known  bool   `json:"known"`
	Name   string `json:"name,omitempty"`
	Active bool   `json:"active"`
	// EntryStepID is the first step the trigger runs; empty means the workflow's root.
	EntryStepID string   `json:"entryStepId,omitempty"`
	Filters     []Filter `json:"filters"`
	// Unread lists the parts of the trigger the importer found but could not read (see Unread). A
	// filter whose field the analyzer does not understand counts as unread too (unknownFilters).
	Unread []Unread `json:"unread,omitempty"`
}

// Unread is a part of a step or trigger that the input holds but the importer could not read: a value
// in a shape it does not know, or a value that cannot be what the key should hold (an operator word
// where an id belongs). What it would have said is unknown, so every rule that depends on that step's
// configuration or that trigger's filters reports the pair as not assessed, naming Path, instead of
// judging it as empty.
type Unread struct {
	// Path is the JSON path of the part, relative to the step or trigger object as the input wrote
	// it: "attributes.__customInputFields__[0]", "conditions[1].field".
	Path string `json:"path"`
	// Key names what the part is: the key, filter field or setting whose value was not read.
	Key string `json:"key"`
}

// Filter narrows a trigger. Field uses GHL's names ("tag", "calendar.id", "appointment.status",
// "contact.email", "form.id", "pipeline.id", "pipeline.stage.id"...); Values is never a bare scalar.
type Filter struct {
	Field    string   `json:"field"`
	Operator string   `json:"operator,omitempty"`
	Values   []string `json:"values"`
}

// Step kinds. Importers map GHL's action types onto these; KindAction is a known action with no
// behaviour the rules need, KindUnknown a type the importer does not know (WD039).
const (
	KindMessage        = "message"
	KindNotification   = "notification"
	KindWait           = "wait"
	KindCondition      = "condition"
	KindSplit          = "split"
	KindGoto           = "goto"
	KindEnroll         = "enroll"
	KindUnenroll       = "unenroll"
	KindTagAdd         = "tag_add"
	KindTagRemove      = "tag_remove"
	KindFieldUpdate    = "field_update"
	KindCustomValue    = "custom_value_update"
	KindOpportunity    = "opportunity"
	KindContact        = "contact"
	KindAssignUser     = "assign_user"
	KindWebhook        = "webhook"
	KindGoal           = "goal"
	KindDND            = "dnd"
	KindEventStartDate = "event_start_date"
	KindAppointment    = "appointment_update"
	KindAction         = "action"
	KindUnknown        = "unknown"
)

// StepKinds lists every step kind of the model.
var StepKinds = []string{
	KindMessage, KindNotification, KindWait, KindCondition, KindSplit, KindGoto, KindEnroll,
	KindUnenroll, KindTagAdd, KindTagRemove, KindFieldUpdate, KindCustomValue, KindOpportunity,
	KindContact, KindAssignUser, KindWebhook, KindGoal, KindDND, KindEventStartDate, KindAppointment,
	KindAction, KindUnknown,
}

// Step is one action of a workflow. Kind selects which of the optional parts is set.
type Step struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Type is the action type as the input spelled it.
	Type string `json:"type"`
	Name string `json:"name,omitempty"`

	Message     *Message     `json:"message,omitempty"`
	Wait        *Wait        `json:"wait,omitempty"`
	Condition   *Condition   `json:"condition,omitempty"`
	Enrollment  *Enrollment  `json:"enrollment,omitempty"`
	Tags        []string     `json:"tags,omitempty"`
	Fields      []FieldWrite `json:"fields,omitempty"`
	Opportunity *Opportunity `json:"opportunity,omitempty"`
	Contact     *ContactOp   `json:"contact,omitempty"`
	Assign      *Assign      `json:"assign,omitempty"`
	Webhook     *Webhook     `json:"webhook,omitempty"`
	Goal        *Goal        `json:"goal,omitempty"`
	DND         *DND         `json:"dnd,omitempty"`
	// GotoTarget is the target step id of a go-to step (also present as a goto edge).
	GotoTarget string `json:"gotoTarget,omitempty"`
	// Refs are the location objects the step refers to by id (WD035).
	Refs []Ref `json:"refs,omitempty"`
	// Shape records how the input wrote the step's outgoing edges, for WD006. Nil when the dialect has
	// no explicit edges.
	Shape *EdgeShape `json:"shape,omitempty"`
	// Unread lists the parts of the step's configuration the importer found but could not read.
	Unread []Unread `json:"unread,omitempty"`
	// Raw is the step as the input wrote it, kept so nothing is lost.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Message channels.
const (
	ChannelSMS       = "sms"
	ChannelEmail     = "email"
	ChannelCall      = "call"
	ChannelVoicemail = "voicemail"
	ChannelWhatsApp  = "whatsapp"
	ChannelSocial    = "social"
	ChannelReview    = "review"
)

// Message is an outbound message to the contact.
type Message struct {
	Channel    string `json:"channel"`
	Body       string `json:"body,omitempty"`
	Subject    string `json:"subject,omitempty"`
	HTML       string `json:"html,omitempty"`
	FromName   string `json:"fromName,omitempty"`
	FromNumber string `json:"fromNumber,omitempty"`
	// TemplateID is an email template the message uses instead of inline content.
	TemplateID string `json:"templateId,omitempty"`
	// Transactional marks a message the input declares non-marketing (no unsubscribe needed).
	Transactional bool `json:"transactional,omitempty"`
}

// Wait modes.
const (
	WaitTime        = "time"
	WaitDateTime    = "datetime"
	WaitAppointment = "appointment"
	WaitEventTime   = "event_time"
	WaitReply       = "reply"
	WaitCondition   = "condition"
	WaitTriggerLink = "trigger_link"
	WaitEmailEvent  = "email_event"
	WaitRecurring   = "recurring"
	WaitUnknown     = "unknown"
)

// Wait pauses the contact.
type Wait struct {
	Mode string `json:"mode"`
	// Duration is the pause of a time wait; nil or zero means it does not pause.
	Duration *Duration `json:"duration,omitempty"`
	// Offset is the appointment- or event-relative moment of an appointment or event-time wait.
	Offset *Offset `json:"offset,omitempty"`
	// Timeout ends an event wait (reply, condition, trigger link, email event); nil means none.
	Timeout *Duration `json:"timeout,omitempty"`
	// Window holds contacts until the window opens.
	Window     *TimeWindow `json:"window,omitempty"`
	Conditions []Clause    `json:"conditions,omitempty"`
}

// Duration is an amount of time in the input's unit.
type Duration struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Minutes converts d to minutes; an unknown unit counts as minutes.
func (d *Duration) Minutes() float64 {
	if d == nil {
		return 0
	}
	switch d.Unit {
	case "second", "seconds":
		return d.Value / 60
	case "hour", "hours":
		return d.Value * 60
	case "day", "days":
		return d.Value * 60 * 24
	case "week", "weeks":
		return d.Value * 60 * 24 * 7
	case "month", "months":
		return d.Value * 60 * 24 * 30
	case "year", "years":
		return d.Value * 60 * 24 * 365
	default:
		return d.Value
	}
}

// Offset is a moment relative to an appointment or event: When is "before" or "after".
type Offset struct {
	When    string `json:"when"`
	Minutes int    `json:"minutes"`
}

// Condition is an if/else step: branches tested in order, then the automatic None branch.
type Condition struct {
	Branches []Branch `json:"branches"`
}

// Branch is one arm of an if/else. It matches when any of its segments matches (Match "any") or all of
// them (Match "all"); each segment is a list of clauses combined the same way.
type Branch struct {
	ID      string   `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Clauses []Clause `json:"clauses"`
}

// Clause is one test of a condition: Subject is what is tested (a contact field, tag, reply...).
type Clause struct {
	Subject  string `json:"subject"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
}

// Enrollment is an add-to-workflow or remove-from-workflow step.
type Enrollment struct {
	WorkflowIDs []string `json:"workflowIds"`
	// All removes the contact from every workflow.
	All bool `json:"all,omitempty"`
	// BareString is true when the input gave remove-from-workflow a string, which removes nothing.
	BareString bool `json:"bareString,omitempty"`
}

// FieldWrite sets a contact field (by id or key) to a value.
type FieldWrite struct {
	Field string `json:"field"`
	Value string `json:"value,omitempty"`
}

// Opportunity is a create, update, find or remove opportunity step.
type Opportunity struct {
	Op         string `json:"op"`
	PipelineID string `json:"pipelineId,omitempty"`
	StageID    string `json:"stageId,omitempty"`
	Status     string `json:"status,omitempty"`
	// Legacy marks the deprecated combined create-and-update opportunity action (create_update_opportunity).
	Legacy bool `json:"legacy,omitempty"`
}

// ContactOp is a create, find or update contact step.
type ContactOp struct {
	Op string `json:"op"`
}

// Assign assigns the contact to users.
type Assign struct {
	UserIDs    []string `json:"userIds"`
	MergeField string   `json:"mergeField,omitempty"`
}

// Webhook sends data out.
type Webhook struct {
	Method  string   `json:"method,omitempty"`
	URL     string   `json:"url"`
	Headers []Header `json:"headers,omitempty"`
	Body    string   `json:"body,omitempty"`
}

// Header is an HTTP header of a webhook.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Goal is a goal-event step: the contact jumps here when the goal is met.
type Goal struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
}

// DND turns do-not-disturb on (Enable) or off for channels.
type DND struct {
	Channels []string `json:"channels,omitempty"`
	Enable   bool     `json:"enable"`
}

// Reference kinds a step can hold.
const (
	RefCalendar    = "calendar"
	RefUser        = "user"
	RefPipeline    = "pipeline"
	RefStage       = "stage"
	RefCustomField = "custom_field"
	RefCustomValue = "custom_value"
	RefTemplate    = "template"
	RefForm        = "form"
	RefWorkflow    = "workflow"
	RefPhoneNumber = "phone_number"
	RefLocation    = "location"
)

// Ref is a step's reference to a location object by id.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// Parent scopes the id: the pipeline of a stage.
	Parent string `json:"parent,omitempty"`
}

// Edge kinds.
const (
	EdgeNext       = "next"
	EdgeBranch     = "branch"
	EdgeElse       = "else"
	EdgeTransition = "transition"
	EdgeGoto       = "goto"
	EdgeTimeout    = "timeout"
)

// EdgeKinds lists every edge kind of the model.
var EdgeKinds = []string{EdgeNext, EdgeBranch, EdgeElse, EdgeTransition, EdgeGoto, EdgeTimeout}

// Edge is a labelled connection between steps. An empty To means the path ends there (an empty branch).
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"`
	// Label is the branch or path name shown in the builder.
	Label string `json:"label,omitempty"`
	// BranchID keeps GHL's id of the branch or transition node so findings can point back to it.
	BranchID string `json:"branchId,omitempty"`
}

// EdgeShape is how the input wrote a step's next: "scalar", "array", "absent" or "empty" (an empty
// array), with the number of targets, whether the step is a router, and how many branches its
// attributes declare (-1 when not a router).
type EdgeShape struct {
	Next     string `json:"next"`
	Targets  int    `json:"targets"`
	Router   bool   `json:"router"`
	Branches int    `json:"branches"`
}
