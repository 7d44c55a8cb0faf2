package simulate

import (
	"strconv"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// clauses evaluates the clauses of an if/else branch or a condition wait on the contact's state now.
// Every clause must hold (the normalized model does not keep GHL's per-branch and/or, and "and" is
// the builder's default). A branch without clauses never matches. A clause about something the
// engine cannot evaluate does not hold, and the assumption is recorded.
func (e *engine) clauses(r *run, s *analyzer.Step, cls []analyzer.Clause) (bool, []ConditionValue) {
	if len(cls) == 0 {
		return false, nil
	}
	vals := make([]ConditionValue, 0, len(cls))
	all := true
	for _, cl := range cls {
		actual, ok, known := e.clause(r, cl)
		if !known {
			e.assume(r, s.ID, AssumeCondition, "Condition %q %s %q cannot be evaluated by the simulation; it is taken as not met.", cl.Subject, cl.Operator, cl.Value)
			ok = false
		}
		vals = append(vals, ConditionValue{Subject: cl.Subject, Operator: cl.Operator, Value: cl.Value, Actual: actual, Result: ok})
		all = all && ok
	}
	return all, vals
}

// clause evaluates one test. actual is what the contact had; known is false when the engine cannot
// evaluate the subject or the operator.
func (e *engine) clause(r *run, cl analyzer.Clause) (actual string, ok, known bool) {
	subj := strings.ToLower(strings.TrimSpace(cl.Subject))
	switch {
	case subj == "tag" || subj == "tags":
		actual = strings.Join(e.c.tags, ",")
		ok, known = setTest(e.c.tags, cl)
		return actual, ok, known
	case subj == "reply" || subj == "replied" || subj == "contact_reply":
		actual = strconv.FormatBool(r.replied)
		ok, known = compare(actual, cl)
		return actual, ok, known
	case subj == "message" || subj == "message.body" || subj == "reply.body":
		actual = r.lastReply
		if r.trigger != nil && r.trigger.Type == EventCustomerReplied && !r.replied {
			actual = r.trigger.Text
		}
		ok, known = compare(actual, cl)
		return actual, ok, known
	case subj == "workflow":
		var in []string
		for _, x := range e.active {
			if x.active {
				in = append(in, x.f.wf.ID)
			}
		}
		ok, known = setTest(in, cl)
		return strings.Join(in, ","), ok, known
	case strings.HasPrefix(subj, "appointment"):
		a := e.runAppt(r)
		if r.appt != "" {
			if i := e.c.appt(r.appt); i >= 0 {
				a = &e.c.appts[i]
			}
		}
		field := strings.TrimPrefix(strings.TrimPrefix(subj, "appointment"), ".")
		switch field {
		case "", "status", "appointment_status", "appointmentstatus":
			if a != nil {
				actual = a.Status
			}
		case "appointmentrescheduled", "rescheduled":
			actual = "false"
			if r.trigger != nil && r.trigger.Type == EventAppointmentRescheduled {
				actual = "true"
			}
		case "calendar", "calendar.id", "calendar_id", "calendarid":
			if a != nil {
				actual = a.CalendarID
			}
		default:
			return "", false, false
		}
		ok, known = compare(actual, cl)
		return actual, ok, known
	case strings.HasPrefix(subj, "opportunit"):
		i := e.c.opp("")
		field := subj[strings.IndexByte(subj+".", '.'):]
		field = strings.TrimPrefix(field, ".")
		if i >= 0 {
			o := e.c.opps[i]
			switch field {
			case "", "status":
				actual = o.Status
			case "stage", "stage.id", "pipelinestageid", "pipeline_stage_id", "stageid", "pipeline_stage":
				actual = o.StageID
			case "pipeline", "pipeline.id", "pipelineid", "pipeline_id":
				actual = o.PipelineID
			default:
				return "", false, false
			}
		}
		ok, known = compare(actual, cl)
		return actual, ok, known
	case strings.HasPrefix(subj, "contact.") || subj == "contact":
		key := e.fieldKey(cl.Subject)
		switch strings.ToLower(key) {
		case "tags", "tag":
			ok, known = setTest(e.c.tags, cl)
			return strings.Join(e.c.tags, ","), ok, known
		case "dnd":
			actual = strconv.FormatBool(e.c.dndOn("all") || e.c.dndOn(analyzer.ChannelSMS))
		case "name", "full_name":
			actual = strings.TrimSpace(e.c.fields["first_name"] + " " + e.c.fields["last_name"])
		case "timezone":
			actual = e.zone.String()
		default:
			actual = e.c.fields[key]
		}
		ok, known = compare(actual, cl)
		return actual, ok, known
	}
	return "", false, false
}

// setTest tests a list (tags, workflows) against a clause.
func setTest(have []string, cl analyzer.Clause) (ok, known bool) {
	has := func(v string) bool {
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(v)) {
				return true
			}
		}
		return false
	}
	values := splitValues(cl.Value)
	switch cl.Operator {
	case "eq", "in", "contains_all", "":
		if cl.Operator == "contains_all" {
			for _, v := range values {
				if !has(v) {
					return false, true
				}
			}
			return len(values) > 0, true
		}
		for _, v := range values {
			if has(v) {
				return true, true
			}
		}
		return false, true
	case "neq", "not_in":
		for _, v := range values {
			if has(v) {
				return false, true
			}
		}
		return true, true
	case "contains":
		for _, h := range have {
			for _, v := range values {
				if strings.Contains(strings.ToLower(h), strings.ToLower(v)) {
					return true, true
				}
			}
		}
		return false, true
	case "not_contains":
		for _, h := range have {
			for _, v := range values {
				if strings.Contains(strings.ToLower(h), strings.ToLower(v)) {
					return false, true
				}
			}
		}
		return true, true
	case "has_value":
		return len(have) > 0, true
	case "has_no_value":
		return len(have) == 0, true
	}
	return false, false
}

func splitValues(v string) []string {
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// compare tests one value against a clause. Numbers compare as numbers when both sides are numbers.
func compare(actual string, cl analyzer.Clause) (ok, known bool) {
	a := strings.TrimSpace(actual)
	v := strings.TrimSpace(cl.Value)
	switch cl.Operator {
	case "eq", "":
		return strings.EqualFold(a, v), true
	case "neq":
		return !strings.EqualFold(a, v), true
	case "in":
		for _, x := range splitValues(v) {
			if strings.EqualFold(a, x) {
				return true, true
			}
		}
		return false, true
	case "not_in":
		for _, x := range splitValues(v) {
			if strings.EqualFold(a, x) {
				return false, true
			}
		}
		return true, true
	case "contains":
		return strings.Contains(strings.ToLower(a), strings.ToLower(v)), true
	case "not_contains":
		return !strings.Contains(strings.ToLower(a), strings.ToLower(v)), true
	case "has_value":
		return a != "", true
	case "has_no_value":
		return a == "", true
	case "gt", "gte", "lt", "lte":
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(v, 64)
		c := strings.Compare(strings.ToLower(a), strings.ToLower(v))
		if err1 == nil && err2 == nil {
			switch {
			case x < y:
				c = -1
			case x > y:
				c = 1
			default:
				c = 0
			}
		} else if a == "" {
			return false, true
		}
		switch cl.Operator {
		case "gt":
			return c > 0, true
		case "gte":
			return c >= 0, true
		case "lt":
			return c < 0, true
		}
		return c <= 0, true
	}
	return false, false
}
