package simulate

import (
	"html"
	"strings"
)

// render fills the merge fields of s from the contact, the location's custom values, the run's
// appointment and the virtual clock. A field that is empty renders blank (or its "| default:"
// value) and is listed in blanks; a field from a source the simulation cannot know (the user, the
// location, an AI step, an inbound webhook) stays as written and is listed in unknown.
func (e *engine) render(r *run, s string) (out string, blanks, unknown []string) {
	if !strings.Contains(s, "{{") {
		return s, nil, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		raw := s[i : i+2+j+2]
		inner := s[i+2 : i+2+j]
		s = s[i+2+j+2:]
		key, def, hasDef := splitDefault(inner)
		v, known := e.mergeValue(r, key)
		switch {
		case !known:
			b.WriteString(raw)
			unknown = appendNew(unknown, key)
		case v != "":
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			blanks = appendNew(blanks, key)
		}
	}
	return b.String(), blanks, unknown
}

// splitDefault splits "contact.first_name | default: 'there'" into the key and the default.
func splitDefault(inner string) (key, def string, ok bool) {
	key, filter, found := strings.Cut(inner, "|")
	key = strings.TrimSpace(key)
	if !found {
		return key, "", false
	}
	rest, isDefault := strings.CutPrefix(strings.TrimSpace(filter), "default:")
	if !isDefault {
		return key, "", false
	}
	return key, strings.Trim(strings.TrimSpace(rest), `'"`), true
}

// mergeValue resolves one merge field; known is false for a source the simulation has no value for.
func (e *engine) mergeValue(r *run, key string) (string, bool) {
	ns, rest, _ := strings.Cut(key, ".")
	switch strings.ToLower(ns) {
	case "contact":
		switch strings.ToLower(rest) {
		case "name", "full_name":
			return strings.TrimSpace(e.c.fields["first_name"] + " " + e.c.fields["last_name"]), true
		}
		return e.c.fields[e.fieldKey(rest)], true
	case "custom_values":
		return e.customValues[rest], true
	case "appointment":
		a := e.runAppt(r)
		if a == nil {
			return "", true
		}
		// The wall clock in the contact's zone, from the engine's cached offset (see zoneClock).
		local := e.clock.wall(a.Start)
		switch strings.ToLower(rest) {
		case "start_time":
			return local.Format("Monday, January 2, 2006 3:04 PM"), true
		case "start_date":
			return local.Format("January 2, 2006"), true
		case "only_start_time":
			return local.Format("3:04 PM"), true
		case "timezone":
			return e.zone.String(), true
		case "status":
			return a.Status, true
		}
		return "", false
	case "right_now":
		local := e.clock.wall(e.now)
		switch strings.ToLower(rest) {
		case "date":
			return local.Format("2006-01-02"), true
		case "time":
			return local.Format("15:04"), true
		case "year":
			return local.Format("2006"), true
		case "month":
			return local.Format("01"), true
		case "day":
			return local.Format("02"), true
		}
		return local.Format("2006-01-02 15:04"), true
	}
	return "", false
}

// stripTags turns an email's HTML into the text a reader sees, with whitespace collapsed.
func stripTags(h string) string {
	var b strings.Builder
	in := false
	for _, c := range h {
		switch {
		case c == '<':
			in = true
			b.WriteByte(' ')
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}
