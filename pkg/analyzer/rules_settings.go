package analyzer

import (
	"fmt"
	"strings"
)

func init() { register(wd023, wd024, wd025, wd026) }

// enrollingTriggers are the triggers that start contacts into wf as built: its active triggers, or
// every trigger of a draft, whose triggers stay inactive until it is published.
func enrollingTriggers(wf *Workflow) []*Trigger {
	var out []*Trigger
	for i := range wf.Triggers {
		if t := &wf.Triggers[i]; t.Active || wf.Status == StatusDraft {
			out = append(out, t)
		}
	}
	return out
}

// isAppointmentType reports whether a trigger type fires on an appointment (either trigger GHL has).
func isAppointmentType(t string) bool {
	return t == TriggerAppointment || t == TriggerCustomerAppointment
}

// alwaysReenters reports whether GHL lets contacts re-enter through this trigger whatever the
// workflow's re-entry setting says: appointment and invoice triggers do.
func alwaysReenters(t string) bool {
	return isAppointmentType(t) || t == TriggerInvoice
}

var wd023 = &rule{
	doc: RuleDoc{
		ID: "WD023", Category: "settings", Severity: SeverityWarning,
		Title:   "Outreach without reply handling",
		Summary: "Three or more outbound messages, Stop on Response off, no reply wait or goal, and no reply-listener workflow in the location.",
		Why: "Stop on Response is what ends a workflow when the contact replies to one of its messages; with it off, and nothing " +
			"else listening for the reply (a wait for reply, a goal, or a workflow triggered by Customer Replied that removes " +
			"the contact from this one), a lead who answers message two still gets message three and the rest of the sequence.",
		Fix: "Turn on Stop on Response in the workflow settings, or add a goal or a wait-for-reply that leads out of the " +
			"sequence, or have a Customer Replied workflow remove the contact from this one.",
		Example: "A five-step SMS and email nurture with Stop on Response off and no reply handler anywhere in the location.",
		Needs:   []string{NeedsWorkflow, NeedsLocation},
	},
	location: checkReplyHandling,
}

// outreachMinimum is how many outbound messages make a sequence outreach that must listen for replies.
const outreachMinimum = 3

func checkReplyHandling(p *pass) {
	lg := p.idx.locGraph()
	// Reply listeners: live workflows started by a customer reply that remove the contact from other
	// workflows, by the workflows they remove from ("*" for all).
	removes := map[string]bool{}
	for i := range p.workflowIndexes() {
		wf := &p.loc.Workflows[i]
		if !live(wf) || !listensTo(lg, wf, TriggerCustomerReply) {
			continue
		}
		for _, w := range lg.writes(wf) {
			if w.Kind == signalUnenroll && w.Value != wf.ID {
				removes[w.Value] = true
			}
		}
	}
	for i := range p.workflowIndexes() {
		wf := &p.loc.Workflows[i]
		sub := p.on(wf)
		if wf.Settings.StopOnResponse || onlyAppointmentTriggers(wf) {
			continue
		}
		g := sub.g
		var messages []int
		listening := false
		for si := range wf.Steps {
			s := &wf.Steps[si]
			if !g.reachable[si] {
				continue
			}
			switch {
			case s.Kind == KindMessage:
				messages = append(messages, si)
			case s.Kind == KindGoal, s.Kind == KindWait && waitsForReply(s.Wait):
				listening = true
			}
		}
		if len(messages) < outreachMinimum || listening || removes["*"] || removes[wf.ID] {
			continue
		}
		if !p.loc.Complete {
			sub.notAssessed("no workflow among those analysed removes contacts from this one when they reply, and the location is not complete, so a reply listener elsewhere cannot be ruled out")
			continue
		}
		sub.report("", "%d outbound messages (%s) go out with Stop on Response off, no wait for reply or goal, and no Customer Replied workflow that removes the contact from this one: a contact who answers still gets the rest of the sequence",
			len(messages), stepList(g, messages))
	}
}

// listensTo reports whether an active trigger of wf has the given type.
func listensTo(lg *locGraph, wf *Workflow, triggerType string) bool {
	for _, l := range lg.listens(wf) {
		if wf.Triggers[l.Trigger].Type == triggerType {
			return true
		}
	}
	return false
}

// onlyAppointmentTriggers reports whether every trigger that starts wf is an appointment trigger:
// its messages are reminders, which must keep going after a reply ("ok, see you"), not outreach.
func onlyAppointmentTriggers(wf *Workflow) bool {
	ts := enrollingTriggers(wf)
	for _, t := range ts {
		if !isAppointmentType(t.Type) {
			return false
		}
	}
	return len(ts) > 0
}

// waitsForReply reports whether a wait ends when the contact replies: a reply wait, or a condition
// wait testing for a reply.
func waitsForReply(w *Wait) bool {
	if w == nil {
		return false
	}
	if w.Mode == WaitReply {
		return true
	}
	for _, c := range w.Conditions {
		if c.Subject == "reply" {
			return true
		}
	}
	return false
}

var wd024 = &rule{
	doc: RuleDoc{
		ID: "WD024", Category: "settings", Severity: SeverityInfo,
		Title:   "Cosmetic re-entry setting",
		Summary: "Re-entry is off on an appointment- or invoice-triggered workflow, which GHL always lets contacts re-enter.",
		Why: "GHL documents that workflows triggered by an appointment or an invoice allow multiple entries regardless of the " +
			"Allow Re-entry setting. Turning it off does not stop a contact who books again (or whose appointment is " +
			"rescheduled, which GHL does by deleting and re-booking) from running the reminder ladder a second time, so a " +
			"builder who relies on it gets duplicate reminders.",
		Fix: "Do not rely on the re-entry toggle here: guard the workflow with a tag or an if/else on the appointment status so " +
			"a second run does not repeat the reminders, and turn Allow Re-entry on so the setting says what GHL actually does.",
		Example: "\"Appointment reminders\" is triggered by Appointment Status with Allow Re-entry off.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkCosmeticReentry,
}

func checkCosmeticReentry(p *pass) {
	if p.wf.Settings.AllowReEntry {
		return
	}
	for _, t := range enrollingTriggers(p.wf) {
		if alwaysReenters(t.Type) {
			p.report("", "Allow Re-entry is off, but contacts starting through trigger %s (%s) re-enter anyway: GHL always allows re-entry for %s-triggered workflows",
				triggerLabel(t), t.Type, reentryFamily(t.Type))
			return
		}
	}
}

func reentryFamily(t string) string {
	if t == TriggerInvoice {
		return "invoice"
	}
	return "appointment"
}

var wd025 = &rule{
	doc: RuleDoc{
		ID: "WD025", Category: "settings", Severity: SeverityWarning,
		Title:   "Duplicate records on re-entry",
		Summary: "Contacts can run the workflow more than once and a create-opportunity or create-contact step has no find step before it.",
		Why: "A create step makes a new record every time it runs. When contacts can enter again (re-entry on; an appointment or " +
			"invoice trigger, which always re-enters; or Allow Multiple Opportunity on an opportunity trigger), every run adds " +
			"another opportunity or contact, so pipelines fill with duplicates and reports double-count.",
		Fix: "Put a Find Opportunity (or Find Contact) step before the create, and create only on its \"not found\" path; or use " +
			"the create-or-update action; or turn re-entry off where GHL honours it.",
		Example: "Re-entry is on and \"Create opportunity\" runs right after the trigger with no Find Opportunity before it.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkDuplicateCreates,
}

func checkDuplicateCreates(p *pass) {
	why := reentryReason(p.wf)
	if why == "" {
		return
	}
	var opps, contacts []bool
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		var unguarded []bool
		var what, find string
		switch {
		case s.Kind == KindOpportunity && s.Opportunity != nil && s.Opportunity.Op == "create":
			if opps == nil {
				opps = reachStopping(p.g, func(s *Step) bool {
					return s.Kind == KindOpportunity && s.Opportunity != nil && s.Opportunity.Op == "find"
				})
			}
			unguarded, what, find = opps, "an opportunity", "Find Opportunity"
		case s.Kind == KindContact && s.Contact != nil && s.Contact.Op == "create":
			if contacts == nil {
				contacts = reachStopping(p.g, func(s *Step) bool { return s.Kind == KindContact && s.Contact != nil && s.Contact.Op == "find" })
			}
			unguarded, what, find = contacts, "a contact", "Find Contact"
		default:
			continue
		}
		if unguarded[i] {
			p.report(s.ID, "%s creates %s with no %s step before it on at least one path, and %s: each run makes another one",
				stepTitle(s), what, find, why)
		}
	}
}

// reentryReason says why contacts can run wf more than once, or "" when they cannot.
func reentryReason(wf *Workflow) string {
	if wf.Settings.AllowReEntry {
		return "re-entry is on"
	}
	for _, t := range enrollingTriggers(wf) {
		switch {
		case alwaysReenters(t.Type):
			return fmt.Sprintf("contacts re-enter through trigger %s (GHL always allows re-entry for %s triggers)", triggerLabel(t), reentryFamily(t.Type))
		case wf.Settings.AllowMultipleOpportunity && isOpportunityType(t.Type):
			return fmt.Sprintf("Allow Multiple Opportunity is on, so each opportunity starts its own run through trigger %s", triggerLabel(t))
		}
	}
	return ""
}

// isOpportunityType reports whether a trigger fires on an opportunity.
func isOpportunityType(t string) bool {
	return t == TriggerPipelineStage || t == TriggerOpportunityStatus || t == TriggerOpportunityCreated ||
		strings.HasPrefix(t, "opportunity_")
}

var wd026 = &rule{
	doc: RuleDoc{
		ID: "WD026", Category: "settings", Severity: SeverityWarning,
		Title:   "Incomplete action",
		Summary: "An SMS without a body, an email without subject or HTML, a webhook without URL, an opportunity without stage, an assign-user with nobody, or a goal with no goal.",
		Why: "GHL's builder only flags some missing fields, and at run time it skips or half-runs an incomplete action without an " +
			"error: an empty SMS is not sent, an email whose content sits only in body (which GHL ignores) goes out blank, an " +
			"opportunity created without a stage lands in the pipeline's first stage, and an assignment to nobody leaves the " +
			"lead unowned.",
		Fix: "Open the step and fill in what is missing: the message text, the email subject and content (in the email editor, " +
			"not the plain body), the webhook URL, the opportunity's stage, the users to assign, or the goal's event.",
		Example: "\"Follow-up email\" has a subject but its content is only in body, so GHL sends it empty.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkIncompleteActions,
}

func checkIncompleteActions(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if missing := incompleteAction(s); missing != "" {
			p.report(s.ID, "%s %s", stepTitle(s), missing)
		}
	}
}

// incompleteAction says what a step lacks to do its job, completing the sentence "<step> ...", or ""
// when it is complete.
func incompleteAction(s *Step) string {
	switch s.Kind {
	case KindMessage:
		m := s.Message
		if m == nil {
			return ""
		}
		switch m.Channel {
		case ChannelSMS:
			if strings.TrimSpace(m.Body) == "" {
				return "has no text, so GHL sends nothing"
			}
		case ChannelEmail:
			var missing []string
			if strings.TrimSpace(m.Subject) == "" {
				missing = append(missing, "has no subject")
			}
			if strings.TrimSpace(m.HTML) == "" && strings.TrimSpace(m.TemplateID) == "" {
				if strings.TrimSpace(m.Body) != "" {
					missing = append(missing, "has its content only in body, which GHL ignores (the email editor's HTML is what is sent)")
				} else {
					missing = append(missing, "has no content")
				}
			}
			if len(missing) > 0 {
				return strings.Join(missing, " and ")
			}
		}
	case KindWebhook:
		if s.Webhook == nil || strings.TrimSpace(s.Webhook.URL) == "" {
			return "is a webhook with no URL, so it sends nothing"
		}
	case KindOpportunity:
		o := s.Opportunity
		if o != nil && (o.Op == "create" || o.Op == "create_or_update") && strings.TrimSpace(o.StageID) == "" {
			return "creates an opportunity without a stage, so it lands in the pipeline's first stage"
		}
	case KindAssignUser:
		if a := s.Assign; a == nil || (len(a.UserIDs) == 0 && strings.TrimSpace(a.MergeField) == "") {
			return "assigns the contact to nobody: its user list is empty"
		}
	case KindGoal:
		if s.Goal == nil || strings.TrimSpace(s.Goal.Type) == "" {
			return "is a goal with no goal event set, so no contact ever meets it"
		}
	}
	return ""
}
