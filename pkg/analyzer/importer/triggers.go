package importer

import (
	"fmt"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// triggerAliases maps trigger type spellings (after normKey) to the normalized types the rules reason
// about (conventions: "Trigger types").
var triggerAliases = map[string]string{
	"contact_tag":                 analyzer.TriggerContactTag,
	"contact_tag_added":           analyzer.TriggerContactTag,
	"tag_added":                   analyzer.TriggerContactTag,
	"contact_changed":             analyzer.TriggerContactChanged,
	"contact_created":             analyzer.TriggerContactCreated,
	"new_contact":                 analyzer.TriggerContactCreated,
	"customer_reply":              analyzer.TriggerCustomerReply,
	"customer_replied":            analyzer.TriggerCustomerReply,
	"inbound_message":             analyzer.TriggerCustomerReply,
	"contact_replied":             analyzer.TriggerCustomerReply,
	"form_submitted":              analyzer.TriggerFormSubmitted,
	"form_submission":             analyzer.TriggerFormSubmitted,
	"survey_submitted":            analyzer.TriggerSurveySubmitted,
	"survey_submission":           analyzer.TriggerSurveySubmitted,
	"appointment":                 analyzer.TriggerAppointment,
	"appointment_status":          analyzer.TriggerAppointment,
	"appointment_v3":              analyzer.TriggerAppointment,
	"customer_appointment":        analyzer.TriggerCustomerAppointment,
	"customer_booked_appointment": analyzer.TriggerCustomerAppointment,
	"customer_appointment_v3":     analyzer.TriggerCustomerAppointment,
	"pipeline_stage_changed":      analyzer.TriggerPipelineStage,
	"pipeline_stage_updated":      analyzer.TriggerPipelineStage,
	"opportunity_stage_changed":   analyzer.TriggerPipelineStage,
	"opportunity_status_changed":  analyzer.TriggerOpportunityStatus,
	"opportunity_created":         analyzer.TriggerOpportunityCreated,
	"invoice":                     analyzer.TriggerInvoice,
	"inbound_webhook":             analyzer.TriggerInboundWebhook,
	"call_status":                 analyzer.TriggerCallStatus,
	"dnd_contact":                 analyzer.TriggerDND,
	"trigger_link":                analyzer.TriggerTriggerLink,
	"trigger_link_clicked":        analyzer.TriggerTriggerLink,
	// Known GHL types with no special meaning keep GHL's own key; the bundle's spellings of them are
	// mapped to that key.
	"scheduler_trigger":           "scheduler_trigger",
	"schedule":                    "scheduler_trigger",
	"order_form_submission":       "order_form_submission",
	"order_form_submitted":        "order_form_submission",
	"two_step_form_submission":    "two_step_form_submission",
	"order_submitted":             "order_submitted",
	"birthday_reminder":           "birthday_reminder",
	"custom_date_reminder":        "custom_date_reminder",
	"note_add":                    "note_add",
	"note_changed":                "note_changed",
	"task_added":                  "task_added",
	"task_due_date_reminder":      "task_due_date_reminder",
	"task_completed":              "task_completed",
	"contact_engagement_score":    "contact_engagement_score",
	"mailgun_email_event":         "mailgun_email_event",
	"facebook_lead_gen":           "facebook_lead_gen",
	"facebook_lead_add":           "facebook_lead_add",
	"funnel_website_pageview":     "funnel_website_pageview",
	"funnel_submission":           "funnel_submission",
	"messaging_errors":            "messaging_errors",
	"validation_error":            "validation_error",
	"video_event":                 "video_event",
	"service_booking":             "service_booking",
	"rental_booking":              "rental_booking",
	"opportunity_changed":         "opportunity_changed",
	"opportunity_decay":           "opportunity_decay",
	"subscription":                "subscription",
	"refund":                      "refund",
	"payment_received":            "payment_received",
	"product_access_granted":      "product_access_granted",
	"product_access_removed":      "product_access_removed",
	"product_completed":           "product_completed",
	"product_progress_percentage": "product_progress_percentage",
	"membership_contact_created":  "membership_contact_created",
	"offer_access_granted":        "offer_access_granted",
	"offer_access_removed":        "offer_access_removed",
	"user_log_in":                 "user_log_in",
	"added_to_campaign":           "added_to_campaign",
}

// triggerType normalizes a trigger type. Unknown types keep their spelling and Known is false.
func triggerType(raw string) (typ string, known bool) {
	k := normKey(raw)
	if t, ok := triggerAliases[k]; ok {
		return t, true
	}
	if strings.HasPrefix(k, "invoice_") {
		return analyzer.TriggerInvoice, true
	}
	if strings.TrimSpace(raw) == "" {
		return analyzer.TriggerUnknown, false
	}
	return strings.TrimSpace(raw), false
}

// readTrigger reads a trigger of either dialect: type, name, active, targetActionId and its
// conditions (builder) or filters (bundle).
func readTrigger(o obj) analyzer.Trigger {
	raw := o.str("type", "triggerType", "eventType")
	typ, known := triggerType(raw)
	t := analyzer.Trigger{
		ID:          o.str("id", "_id"),
		Type:        typ,
		RawType:     raw,
		Known:       known,
		Name:        o.str("name", "label", "title"),
		Active:      true,
		EntryStepID: o.str("targetActionId", "target_action_id", "entryStepId"),
		Filters:     []analyzer.Filter{},
	}
	if active, ok := o.flag("active", "enabled"); ok {
		t.Active = active
	}
	key := firstKey(o, "conditions", "filters", "eventFilters")
	for i, item := range o.list("conditions", "filters", "eventFilters") {
		fs := readFilters(typ, item)
		if len(fs) == 0 && item != nil {
			// An object whose keys only describe it (a nested group, an operator alone) is a filter in a
			// shape this reader does not know: what the trigger listens to is then unknown, not
			// unfiltered.
			t.Unread = append(t.Unread, analyzer.Unread{Path: fmt.Sprintf("%s[%d]", key, i), Key: key})
		}
		t.Filters = append(t.Filters, fs...)
	}
	return t
}

// firstKey returns the first of keys that o holds with a non-null value, or "".
func firstKey(o obj, keys ...string) string {
	for _, k := range keys {
		if o.has(k) {
			return k
		}
	}
	return ""
}

// filterMeta are keys of a filter object that describe it rather than name a field.
var filterMeta = map[string]bool{"operator": true, "title": true, "type": true, "id": true, "label": true}

// readFilters reads one trigger condition: {field, operator, value}, the bundle's {tag: x}, an object
// of field: value pairs (read in key order), or a bare value.
func readFilters(triggerType string, item any) []analyzer.Filter {
	o := asObj(item)
	if o == nil {
		if item == nil {
			return nil
		}
		field := "value"
		if triggerType == analyzer.TriggerContactTag {
			field = "tag"
		}
		return []analyzer.Filter{newFilter(field, "", item)}
	}
	op := o.str("operator", "conditionOperator")
	switch {
	case o.has("field", "key", "property"):
		return []analyzer.Filter{newFilter(filterField(triggerType, o.str("field", "key", "property")), op, o.get("value", "values"))}
	case o.has("tag", "tags", "tagName"):
		return []analyzer.Filter{newFilter("tag", op, o.get("tag", "tags", "tagName"))}
	}
	var out []analyzer.Filter
	for _, k := range sortedKeys(o) {
		if filterMeta[k] || strings.HasPrefix(k, "__") || o[k] == nil {
			continue
		}
		out = append(out, newFilter(filterField(triggerType, k), op, o[k]))
	}
	return out
}

func newFilter(field, op string, value any) analyzer.Filter {
	values := valueList(value)
	f := analyzer.Filter{Field: field, Operator: normOperator(op, len(values)), Values: values}
	if f.Operator == "" && len(values) > 0 {
		f.Operator = normOperator("eq", len(values))
	}
	return f
}

// filterFields maps filter field spellings (after normKey) to the normalized names. "status" depends
// on the trigger and is handled in filterField. Bare "form" and "survey" are kept as written: in the
// auditor's samples they hold a form's name, not its id.
var filterFields = map[string]string{
	"tag": "tag", "tags": "tag", "tags_added": "tag", "contact.tags": "tag", "contact_tag": "tag",
	"tag_name": "tag", "contact.tag": "tag",
	"calendar": "calendar.id", "calendar.id": "calendar.id", "calendar_id": "calendar.id",
	"appointment.status": "appointment.status", "appointment_status": "appointment.status",
	"form.id": "form.id", "form_id": "form.id", "form_name": "form", "form.name": "form",
	"survey.id": "survey.id", "survey_id": "survey.id", "survey_name": "survey", "survey.name": "survey",
	"pipeline": "pipeline.id", "pipeline.id": "pipeline.id", "pipeline_id": "pipeline.id",
	"stage": "pipeline.stage.id", "stage_id": "pipeline.stage.id", "stage.id": "pipeline.stage.id",
	"pipeline_stage": "pipeline.stage.id", "pipeline_stage_id": "pipeline.stage.id",
	"pipeline.stage.id": "pipeline.stage.id", "pipeline.stage_id": "pipeline.stage.id",
	"opportunity.status": "opportunity.status", "opportunity_status": "opportunity.status",
	"call.status": "call.status", "call_status": "call.status",
	"message.body": "message.body", "message_body": "message.body", "body": "message.body",
	"link.id": "link.id", "link_id": "link.id", "trigger_link": "link.id", "trigger_link_id": "link.id",
}

// entityPrefixes are the entity names GHL writes before a filter field ("opportunity.pipeline_stage_id",
// "appointment_calendar_id"). The contact prefix is not among them: after it comes a contact field,
// which a contact-changed trigger watches ("contact.stage" is a field, not a pipeline stage); only its
// tag spellings are listed in filterFields.
var entityPrefixes = []string{
	"opportunity", "opportunities", "appointment", "calendar", "form", "survey", "message", "invoice",
	"call", "trigger_link", "link", "pipeline", "order", "payment",
}

// statusField is the status filter a bare "status" means for the trigger's type, or "".
func statusField(triggerType, k string) string {
	if k != "status" {
		return ""
	}
	switch triggerType {
	case analyzer.TriggerAppointment, analyzer.TriggerCustomerAppointment:
		return "appointment.status"
	case analyzer.TriggerOpportunityStatus:
		return "opportunity.status"
	case analyzer.TriggerCallStatus:
		return "call.status"
	}
	return ""
}

// filterField normalizes a trigger filter's field for the trigger's type. A field spelled with an
// entity prefix is read as the field after it when that is one the rules know, so
// "opportunity.pipeline_stage_id" is the stage filter "pipeline.stage.id".
func filterField(triggerType, field string) string {
	k := normKey(field)
	if n, ok := filterFields[k]; ok {
		return n
	}
	for _, e := range entityPrefixes {
		for _, sep := range []string{".", "_"} {
			rest, ok := strings.CutPrefix(k, e+sep)
			if !ok || rest == "" {
				continue
			}
			if n, ok := filterFields[rest]; ok {
				return n
			}
			if n := statusField(triggerType, rest); n != "" {
				return n
			}
		}
	}
	if n := statusField(triggerType, k); n != "" {
		return n
	}
	if triggerType == analyzer.TriggerContactChanged && !strings.Contains(field, ".") && field != "" {
		// A contact-changed trigger watches a contact field; the bare key is that field.
		return "contact." + field
	}
	return field
}
