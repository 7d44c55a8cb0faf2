// Package simulate runs one contact through every published workflow of a location on a virtual
// clock: triggers matched with their filters, steps in order, waits, time windows, writes that fire
// other workflows, re-entry, stop on response and GHL's loop protection. It answers "what does this
// contact receive, and when?" deterministically, from the normalized model of package analyzer, and
// imports no HTTP, SQL or cache code, like the analyzer itself.
package simulate

import (
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// Event types. A trigger event starts contacts into the workflows whose triggers it matches; the
// same event also resolves waits and goals of workflows the contact is already in.
const (
	// EventFormSubmitted is a form submission; Form names the form by id or name.
	EventFormSubmitted = "form_submitted"
	// EventSurveySubmitted is a survey submission; Form names the survey by id or name.
	EventSurveySubmitted = "survey_submitted"
	// EventTagAdded is a tag added to the contact by a person or an outside system; Tag names it.
	EventTagAdded = "tag_added"
	// EventTagRemoved is a tag removed from the contact; Tag names it.
	EventTagRemoved = "tag_removed"
	// EventCustomerReplied is an inbound message; Text is its body and Channel its channel (sms when
	// empty). STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT turn DND on for the channel.
	EventCustomerReplied = "customer_replied"
	// EventAppointmentBooked books Appointment (status confirmed unless it says otherwise).
	EventAppointmentBooked = "appointment_booked"
	// EventAppointmentCancelled cancels the appointment Appointment.ID names (the latest one when
	// Appointment is absent).
	EventAppointmentCancelled = "appointment_cancelled"
	// EventAppointmentRescheduled moves the appointment Appointment.ID names to Appointment.Start.
	EventAppointmentRescheduled = "appointment_rescheduled"
	// EventAppointmentStatus sets the status of an appointment (showed, noshow, confirmed...).
	EventAppointmentStatus = "appointment_status"
	// EventStageChanged moves the contact's opportunity in PipelineID to StageID.
	EventStageChanged = "stage_changed"
	// EventOpportunityStatus sets the status (open, won, lost, abandoned) of the opportunity in
	// PipelineID (the contact's first one when empty).
	EventOpportunityStatus = "opportunity_status"
	// EventOpportunityCreated creates an opportunity in PipelineID at StageID.
	EventOpportunityCreated = "opportunity_created"
	// EventContactCreated is the contact's creation.
	EventContactCreated = "contact_created"
	// EventFieldChanged sets the contact field Field to Value.
	EventFieldChanged = "field_changed"
	// EventCallStatus is a call with status Status (missed, answered, voicemail...).
	EventCallStatus = "call_status"
	// EventTriggerLinkClicked is a click on the trigger link Link.
	EventTriggerLinkClicked = "trigger_link_clicked"
	// EventEmailEvent is an email event (opened, clicked...) named by Status.
	EventEmailEvent = "email_event"
	// EventTrigger fires any trigger type GHL has, named by Trigger (for example
	// "order_form_submission" or "inbound_webhook"), with Attributes matched against its filters.
	EventTrigger = "trigger"
)

// EventTypes lists every event type a request may use.
var EventTypes = []string{
	EventFormSubmitted, EventSurveySubmitted, EventTagAdded, EventTagRemoved, EventCustomerReplied,
	EventAppointmentBooked, EventAppointmentCancelled, EventAppointmentRescheduled, EventAppointmentStatus,
	EventStageChanged, EventOpportunityStatus, EventOpportunityCreated, EventContactCreated,
	EventFieldChanged, EventCallStatus, EventTriggerLinkClicked, EventEmailEvent, EventTrigger,
}

// Request is one simulation: a contact, the event that starts it, later events and how long to run.
type Request struct {
	// Contact is the contact's state when the simulation starts.
	Contact Contact `json:"contact"`
	// Start is the event that starts the simulation; the virtual clock starts at Start.At.
	Start Event `json:"start"`
	// Events happen later (an event before Start is refused). Events at the same time happen in the
	// order given.
	Events []Event `json:"events,omitempty"`
	// Horizon is how long after Start the simulation runs: "30d", "36h", "90m" or a combination
	// such as "1d12h". Empty means DefaultHorizon.
	Horizon string `json:"horizon,omitempty"`
	// AccountTimezone is the location's time zone (IANA name), used by workflows set to the
	// account's zone and for contacts without one. Empty means UTC, recorded as an assumption when
	// anything depends on it.
	AccountTimezone string `json:"accountTimezone,omitempty"`
}

// Contact is a contact's state.
type Contact struct {
	// ID is the caller's name for the contact; it is only echoed.
	ID string `json:"id,omitempty"`
	// Fields are the contact's standard and custom fields by key, without the "contact." prefix:
	// first_name, last_name, email, phone, city, or a custom field's key such as budget.
	Fields map[string]string `json:"fields,omitempty"`
	// Tags are the contact's tags.
	Tags []string `json:"tags,omitempty"`
	// Timezone is the contact's IANA time zone; empty means the account's.
	Timezone string `json:"timezone,omitempty"`
	// DND lists the channels with do-not-disturb on (sms, email, call, whatsapp, ...), or "all".
	DND []string `json:"dnd,omitempty"`
	// Appointments are the contact's appointments.
	Appointments []Appointment `json:"appointments,omitempty"`
	// Opportunities are the contact's opportunities, at most one per pipeline.
	Opportunities []Opportunity `json:"opportunities,omitempty"`
}

// Appointment statuses the engine knows; others are kept as written.
const (
	AppointmentConfirmed = "confirmed"
	AppointmentCancelled = "cancelled"
	AppointmentShowed    = "showed"
	AppointmentNoShow    = "noshow"
)

// Appointment is one of the contact's appointments.
type Appointment struct {
	// ID names the appointment in later events; empty takes "appt-N" by order of booking.
	ID string `json:"id,omitempty"`
	// CalendarID is the calendar's id, matched against trigger filters on calendar.id.
	CalendarID string `json:"calendarId,omitempty"`
	// Start is when the appointment starts.
	Start time.Time `json:"start"`
	// Status is confirmed (the default), cancelled, showed, noshow or another GHL status.
	Status string `json:"status,omitempty"`
}

// Opportunity is one of the contact's opportunities.
type Opportunity struct {
	PipelineID string `json:"pipelineId"`
	StageID    string `json:"stageId,omitempty"`
	// Status is open (the default), won, lost or abandoned.
	Status string `json:"status,omitempty"`
}

// Event is something that happens to the contact at a virtual time. Which fields matter depends on
// Type (see the Event constants).
type Event struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Form is the form or survey, by id or name.
	Form string `json:"form,omitempty"`
	// Tag is the tag added or removed.
	Tag string `json:"tag,omitempty"`
	// Text is the body of a reply.
	Text string `json:"text,omitempty"`
	// Channel is the channel of a reply (sms when empty).
	Channel string `json:"channel,omitempty"`
	// Appointment is the appointment booked, cancelled, rescheduled or given a status.
	Appointment *Appointment `json:"appointment,omitempty"`
	// PipelineID and StageID place an opportunity.
	PipelineID string `json:"pipelineId,omitempty"`
	StageID    string `json:"stageId,omitempty"`
	// Status is an opportunity, call, appointment or email-event status.
	Status string `json:"status,omitempty"`
	// Field and Value are a contact field write.
	Field string `json:"field,omitempty"`
	Value string `json:"value,omitempty"`
	// Link is a trigger link's id or name.
	Link string `json:"link,omitempty"`
	// Trigger is the GHL trigger type an EventTrigger fires.
	Trigger string `json:"trigger,omitempty"`
	// Attributes are extra values matched against trigger filters by field name.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Result is what a simulation found. The same request over the same location gives a byte-identical
// result.
type Result struct {
	LocationID string `json:"locationId,omitempty"`
	ContactID  string `json:"contactId,omitempty"`
	// Start and End bound the virtual time simulated (End is Start plus the horizon).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Timezone is the zone the contact's local times are given in.
	Timezone string `json:"timezone"`
	// Trace is everything that happened, in order.
	Trace []TraceEntry `json:"trace"`
	// Messages are the messages the contact receives, in order.
	Messages []Message `json:"messages"`
	// Workflows are the workflow runs the contact entered, in order of entry.
	Workflows []WorkflowRun `json:"workflows"`
	// Assumptions are the places where the engine could not evaluate something and took its
	// documented default.
	Assumptions []Assumption `json:"assumptions"`
	// Findings are the problems the run proves.
	Findings []Finding `json:"findings"`
	// Final is the contact's state when the simulation ends.
	Final ContactState `json:"final"`
	// Stats count the work done, against the limits.
	Stats Stats `json:"stats"`
}

// Trace entry kinds.
const (
	TraceEvent      = "event"
	TraceEnter      = "enter"
	TraceNotEntered = "not-entered"
	TraceStep       = "step"
	TraceBranch     = "branch"
	TraceWait       = "wait"
	TraceResume     = "resume"
	TraceSend       = "send"
	TraceSuppress   = "suppress"
	TraceWrite      = "write"
	TraceExit       = "exit"
	TraceAssume     = "assume"
)

// TraceEntry is one thing that happened.
type TraceEntry struct {
	// Seq numbers the entries from 1.
	Seq int       `json:"seq"`
	At  time.Time `json:"at"`
	// Local is At in the contact's time zone (RFC 3339 with its offset).
	Local      string `json:"local"`
	WorkflowID string `json:"workflowId,omitempty"`
	Workflow   string `json:"workflow,omitempty"`
	StepID     string `json:"stepId,omitempty"`
	// Kind is one of the Trace constants.
	Kind string `json:"kind"`
	// Detail says what happened and why.
	Detail string `json:"detail"`
	// Branch is the branch an if/else took.
	Branch string `json:"branch,omitempty"`
	// Conditions are the tests that chose the branch, with the values they saw.
	Conditions []ConditionValue `json:"conditions,omitempty"`
	// Assumption marks an entry decided by a documented default rather than by the model.
	Assumption bool `json:"assumption,omitempty"`
}

// ConditionValue is one test of a condition as it was evaluated.
type ConditionValue struct {
	Subject  string `json:"subject"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	// Actual is what the contact had when the test ran.
	Actual string `json:"actual"`
	Result bool   `json:"result"`
}

// Message is one message the contact receives.
type Message struct {
	At         time.Time `json:"at"`
	Local      string    `json:"local"`
	Channel    string    `json:"channel"`
	WorkflowID string    `json:"workflowId"`
	Workflow   string    `json:"workflow"`
	StepID     string    `json:"stepId"`
	Subject    string    `json:"subject,omitempty"`
	// Text is the message with its merge fields filled from the contact.
	Text string `json:"text"`
	// BlankFields are the merge fields that rendered blank.
	BlankFields []string `json:"blankFields,omitempty"`
}

// Workflow run exit reasons.
const (
	ExitCompleted      = "completed"
	ExitStopOnResponse = "stop-on-response"
	ExitRemoved        = "removed"
	ExitGoal           = "goal"
	ExitLoopProtection = "loop-protection"
	ExitHorizon        = "horizon"
)

// WorkflowRun is one entry of the contact into a workflow.
type WorkflowRun struct {
	WorkflowID string    `json:"workflowId"`
	Workflow   string    `json:"workflow"`
	EnteredAt  time.Time `json:"enteredAt"`
	// EnteredBy says what started the run: a trigger type, or the step that added the contact.
	EnteredBy string `json:"enteredBy"`
	// LeftAt is when the run ended; nil when it was still going at the horizon.
	LeftAt *time.Time `json:"leftAt"`
	// Exit is one of the Exit constants.
	Exit string `json:"exit"`
	// StepID is the step the run ended at (or waits at, for ExitHorizon).
	StepID string `json:"stepId,omitempty"`
}

// Assumption kinds.
const (
	AssumeUnreadStep    = "unread-step"
	AssumeUnknownStep   = "unknown-step"
	AssumeWebhook       = "webhook"
	AssumeAIStep        = "ai-step"
	AssumeCustomCode    = "custom-code"
	AssumeUnknownWait   = "unknown-wait"
	AssumeCondition     = "condition"
	AssumeTrigger       = "trigger"
	AssumeAccountZone   = "account-timezone"
	AssumeSplit         = "split"
	AssumeAppointment   = "appointment"
	AssumeWorkflowState = "workflow-state"
	AssumeMergeField    = "merge-field"
)

// Assumption is a place where the engine could not evaluate something and took its default.
type Assumption struct {
	At         time.Time `json:"at"`
	WorkflowID string    `json:"workflowId,omitempty"`
	StepID     string    `json:"stepId,omitempty"`
	Kind       string    `json:"kind"`
	Detail     string    `json:"detail"`
}

// Finding kinds.
const (
	FindingQuietHours       = "quiet-hours"
	FindingMessageBurst     = "message-burst"
	FindingAfterOptOut      = "after-opt-out"
	FindingParkedForever    = "parked-forever"
	FindingLoopProtection   = "loop-protection"
	FindingAfterCancel      = "after-cancellation"
	FindingAfterAppointment = "after-appointment"
	FindingBlankMergeField  = "blank-merge-field"
)

// Finding severities: the analyzer's, so a simulation's findings rank and read like its findings.
const (
	SeverityError   = analyzer.SeverityError
	SeverityWarning = analyzer.SeverityWarning
	SeverityInfo    = analyzer.SeverityInfo
)

// Finding is a problem the run proves, with the rule that predicts it statically when there is one.
type Finding struct {
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity"`
	At         time.Time `json:"at"`
	Local      string    `json:"local"`
	WorkflowID string    `json:"workflowId,omitempty"`
	StepID     string    `json:"stepId,omitempty"`
	Detail     string    `json:"detail"`
	// RuleID is the analyzer rule (WDnnn) that predicts this kind of problem, when one does.
	RuleID string `json:"ruleId,omitempty"`
}

// ContactState is the contact's state at the end.
type ContactState struct {
	Tags          []string          `json:"tags"`
	Fields        map[string]string `json:"fields"`
	DND           []string          `json:"dnd"`
	Appointments  []Appointment     `json:"appointments"`
	Opportunities []Opportunity     `json:"opportunities"`
}

// Stats count a simulation's work.
type Stats struct {
	StepsExecuted    int `json:"stepsExecuted"`
	Events           int `json:"events"`
	WorkflowsEntered int `json:"workflowsEntered"`
	Messages         int `json:"messages"`
}
