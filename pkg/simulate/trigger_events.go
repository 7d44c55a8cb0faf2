package simulate

import (
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// BookingLead is how far ahead of its booking TriggerEvents places an appointment: three days, so
// reminders a day and an hour before fall inside the default horizon and after the booking.
const BookingLead = 72 * time.Hour

// TriggerEvents returns the events a contact would cause at time at to fire trigger t, with the
// values its filters ask for: the form it names, the tag, the appointment status and calendar, the
// pipeline stage. An appointment trigger books an appointment BookingLead later (one that waits for
// a cancellation books and then cancels it an hour later). A trigger type without an event of its
// own is fired by an EventTrigger naming it. The first event is the start of a simulation.
func TriggerEvents(t *analyzer.Trigger, at time.Time) []Event {
	first := func(fields ...string) string {
		for _, f := range t.Filters {
			for _, want := range fields {
				if strings.EqualFold(f.Field, want) && len(f.Values) > 0 && f.Operator != "neq" && f.Operator != "not_in" {
					return f.Values[0]
				}
			}
		}
		return ""
	}
	ev := Event{At: at}
	switch t.Type {
	case analyzer.TriggerFormSubmitted:
		// A trigger on any form gets a form no other trigger names, so the event does not match
		// every filtered form trigger too.
		ev.Type, ev.Form = EventFormSubmitted, cmpOr(first("form", "form.id"), "Any form")
	case analyzer.TriggerSurveySubmitted:
		ev.Type, ev.Form = EventSurveySubmitted, cmpOr(first("survey", "survey.id"), "Any survey")
	case analyzer.TriggerContactTag:
		ev.Type, ev.Tag = EventTagAdded, cmpOr(first("tag"), "tag")
	case analyzer.TriggerContactCreated:
		ev.Type = EventContactCreated
	case analyzer.TriggerCustomerReply:
		ev.Type, ev.Channel, ev.Text = EventCustomerReplied, analyzer.ChannelSMS, cmpOr(first("message.body"), "Yes, interested")
	case analyzer.TriggerAppointment, analyzer.TriggerCustomerAppointment:
		appt := &Appointment{ID: "appt-1", CalendarID: first("calendar.id"), Start: at.Add(BookingLead)}
		ev.Type, ev.Appointment = EventAppointmentBooked, appt
		switch status := strings.ToLower(first("appointment.status")); status {
		case "", AppointmentConfirmed, "booked", "new":
		case AppointmentCancelled:
			cancel := Event{At: at.Add(time.Hour), Type: EventAppointmentCancelled, Appointment: &Appointment{ID: appt.ID}}
			return []Event{ev, cancel}
		default:
			later := Event{At: appt.Start, Type: EventAppointmentStatus, Status: status, Appointment: &Appointment{ID: appt.ID}}
			return []Event{ev, later}
		}
	case analyzer.TriggerPipelineStage:
		ev.Type, ev.PipelineID, ev.StageID = EventStageChanged, first("pipeline.id"), cmpOr(first("pipeline.stage.id"), "stage")
	case analyzer.TriggerOpportunityStatus:
		ev.Type, ev.PipelineID, ev.Status = EventOpportunityStatus, first("pipeline.id"), cmpOr(first("opportunity.status"), "won")
	case analyzer.TriggerOpportunityCreated:
		ev.Type, ev.PipelineID, ev.StageID = EventOpportunityCreated, first("pipeline.id"), first("pipeline.stage.id")
	case analyzer.TriggerContactChanged:
		field := "email"
		for _, f := range t.Filters {
			if strings.HasPrefix(f.Field, "contact.") {
				field = strings.TrimPrefix(f.Field, "contact.")
				break
			}
		}
		ev.Type, ev.Field, ev.Value = EventFieldChanged, field, cmpOr(first("contact."+field), "changed")
	case analyzer.TriggerCallStatus:
		ev.Type, ev.Status = EventCallStatus, cmpOr(first("call.status"), "missed")
	case analyzer.TriggerTriggerLink:
		ev.Type, ev.Link = EventTriggerLinkClicked, first("link.id")
	default:
		ev.Type, ev.Trigger = EventTrigger, cmpOr(t.RawType, t.Type)
		ev.Attributes = map[string]string{}
		for _, f := range t.Filters {
			if len(f.Values) > 0 {
				ev.Attributes[f.Field] = f.Values[0]
			}
		}
		if len(ev.Attributes) == 0 {
			ev.Attributes = nil
		}
	}
	return []Event{ev}
}
