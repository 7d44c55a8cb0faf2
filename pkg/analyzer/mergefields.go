package analyzer

import (
	"strings"
)

// Merge fields are GHL's {{namespace.field}} placeholders, filled in when a message or webhook goes
// out. GHL does not refuse a message whose merge field cannot be filled: it sends it with a hole
// where the value should be. These helpers find the placeholders in a text so rules can check them.

// mergeField is one placeholder found in a text.
type mergeField struct {
	// Raw is the placeholder as written, braces included (for a malformed one, what was found).
	Raw string
	// Expr is the field inside the braces without padding or a Liquid filter ("| default: ..."), as
	// written: "contact.first_name".
	Expr string
	// Problem says why the placeholder is malformed, in words that complete "the placeholder ...";
	// empty when it is well formed.
	Problem string
}

// namespace returns the placeholder's namespace in lower case ("contact", "custom_values") and the
// rest of its expression after the first dot.
func (m mergeField) namespace() (ns, rest string) {
	ns, rest, _ = strings.Cut(m.Expr, ".")
	return strings.ToLower(strings.TrimSpace(ns)), strings.TrimSpace(rest)
}

// mergeNamespaces are the namespaces GHL's merge fields use; a single-brace {contact.x} is recognised
// as a broken placeholder only for these, so JSON and CSS braces in the same text are left alone.
var mergeNamespaces = []string{
	"contact", "custom_values", "appointment", "location", "user", "opportunity", "message",
	"right_now", "invoice", "calendar", "attribution", "trigger_link", "campaign", "account",
}

// scanMergeFields appends the placeholders of s to dst, in order, and returns the extended slice
// (callers scanning many texts reuse one buffer). It recognises well-formed {{...}}
// placeholders (padding and a Liquid filter allowed), and reports as malformed: a {{ that is never
// closed or is closed only after another {{ opens, an empty {{ }}, a field name with a space inside it,
// and a known namespace written with single braces ({contact.first_name}). Liquid tags ({% ... %}) are
// not placeholders. Linear in len(s) apart from the search for the next }} after an unclosed {{.
func scanMergeFields(dst []mergeField, s string) []mergeField {
	if strings.IndexByte(s, '{') < 0 {
		return dst
	}
	out := dst
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "{{")
		if k < 0 {
			break
		}
		start := i + k
		body := s[start+2:]
		end := strings.Index(body, "}}")
		limit := end
		if next := strings.Index(body, "{{"); end < 0 || (next >= 0 && next < end) {
			limit = next
		}
		if limit < 0 {
			limit = len(body)
		}
		if cut := strings.IndexAny(body[:limit], "{}"); cut >= 0 || limit != end {
			// The placeholder is not closed by the }} that follows it: a single brace closes it
			// ("{{contact.first_name} and ..."), another placeholder opens first, or nothing closes it.
			if cut >= 0 && body[cut] == '}' {
				out = append(out, malformedPlaceholder(s[start:start+2+cut+1], "is closed with a single }"))
				i = start + 2 + cut
				continue
			}
			raw := unclosedPlaceholder(s[start:])
			if cut >= 0 {
				raw = s[start : start+2+cut]
			}
			out = append(out, malformedPlaceholder(raw, "is never closed with }}"))
			i = start + 2
			continue
		}
		raw := s[start : start+2+end+2]
		expr, _, _ := strings.Cut(body[:end], "|")
		expr = strings.TrimSpace(expr)
		m := mergeField{Raw: raw, Expr: expr}
		switch {
		case expr == "":
			m.Problem = "is empty"
		case strings.ContainsAny(expr, " \t\r\n"):
			m.Problem = "has a space inside the field name"
		}
		out = append(out, m)
		i = start + 2 + end + 2
	}
	return singleBracePlaceholders(out, s)
}

func malformedPlaceholder(raw, problem string) mergeField {
	return mergeField{Raw: raw, Expr: strings.TrimSpace(strings.Trim(raw, "{} ")), Problem: problem}
}

// unclosedPlaceholder returns the start of an unclosed placeholder: the braces, the field-name
// characters after them and a single closing brace if one follows.
func unclosedPlaceholder(s string) string {
	j := 2
	for j < len(s) && j < 80 && isFieldChar(s[j], true) {
		j++
	}
	if j < len(s) && s[j] == '}' {
		j++
	}
	return strings.TrimRight(s[:j], " \t")
}

// singleBracePlaceholders appends to out the {namespace.field} placeholders written with one brace on
// either side (or one on the left and two on the right), for the namespaces GHL knows.
func singleBracePlaceholders(out []mergeField, s string) []mergeField {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' || (i > 0 && s[i-1] == '{') || (i+1 < len(s) && s[i+1] == '{') {
			continue
		}
		j := i + 1
		for j < len(s) && isFieldChar(s[j], false) {
			j++
		}
		if j >= len(s) || s[j] != '}' {
			continue
		}
		expr := s[i+1 : j]
		ns, _, ok := strings.Cut(expr, ".")
		if !ok || !knownNamespace(ns) {
			continue
		}
		end := j + 1
		if end < len(s) && s[end] == '}' {
			end++
		}
		out = append(out, mergeField{Raw: s[i:end], Expr: expr, Problem: "uses single braces"})
	}
	return out
}

func knownNamespace(ns string) bool {
	ns = strings.ToLower(ns)
	for _, n := range mergeNamespaces {
		if n == ns {
			return true
		}
	}
	return false
}

// isFieldChar reports whether c can appear in a merge-field name; with spaces, padding counts too.
func isFieldChar(c byte, spaces bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		return true
	case spaces && c == ' ':
		return true
	}
	return false
}

// standardContactFields are the contact fields every GHL location has, by merge key. Anything else
// after "contact." must be a custom field of the location. The list is generous on purpose: a
// standard field missing here would be reported as unknown, and a false alarm costs more than a
// missed one.
var standardContactFields = map[string]bool{
	"id": true, "contact_id": true, "first_name": true, "last_name": true, "name": true, "full_name": true,
	"first_name_lowercase": true, "last_name_lowercase": true, "full_name_lowercase": true,
	"email": true, "phone": true, "phone_raw": true, "company_name": true, "business_name": true,
	"address1": true, "address": true, "full_address": true, "city": true, "state": true,
	"postal_code": true, "country": true, "timezone": true, "date_of_birth": true, "birthday": true,
	"source": true, "type": true, "website": true, "tags": true, "dnd": true, "assigned_to": true,
	"assigned_user": true, "owner": true, "date_added": true, "date_created": true, "date_updated": true,
	"attribution_source": true, "profile_photo": true, "unsubscribe_link": true, "gender": true,
}

// mergeText is a text of a step that GHL fills merge fields in.
type mergeText struct {
	// Part is what the text is: "body", "subject", "HTML", "sender name", "URL", "header", "value".
	Part string
	// Of is what the part belongs to: a message channel, "notification", "webhook", or for a field
	// write or header the field or header name.
	Of   string
	Text string
}

// where names the part of the step a text is, for a message: "the SMS body", "the webhook header
// Authorization", "the value written to contact.budget". It is built only when a finding needs it.
func (t mergeText) where() string {
	switch t.Part {
	case "header":
		return "the webhook header " + t.Of
	case "value":
		return "the value written to " + t.Of
	case "URL":
		return "the webhook URL"
	}
	return "the " + t.Of + " " + t.Part
}

// mergeTexts appends to dst the texts of s that GHL renders with merge fields: a message's body,
// subject, HTML and sender name, a webhook's URL, headers and body, and the values a field update
// writes.
func mergeTexts(dst []mergeText, s *Step) []mergeText {
	add := func(part, of, text string) {
		if text != "" {
			dst = append(dst, mergeText{Part: part, Of: of, Text: text})
		}
	}
	if m := s.Message; m != nil {
		what := channelName(m.Channel)
		if s.Kind == KindNotification {
			what = "notification"
		}
		add("body", what, m.Body)
		add("subject", what, m.Subject)
		add("HTML", what, m.HTML)
		add("sender name", what, m.FromName)
	}
	if w := s.Webhook; w != nil {
		add("URL", "webhook", w.URL)
		for _, h := range w.Headers {
			add("header", h.Key, h.Value)
		}
		add("body", "webhook", w.Body)
	}
	for _, f := range s.Fields {
		add("value", f.Field, f.Value)
	}
	return dst
}

// normalizeMergeKey turns a custom field or custom value key as the location context writes it
// ("contact.budget", "{{ custom_values.booking_link }}", "booking_link") into the bare field name in
// lower case ("budget", "booking_link"), dropping the namespace given.
func normalizeMergeKey(key, namespace string) string {
	k := strings.TrimSpace(key)
	k = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(k, "{{"), "}}"))
	k = strings.ToLower(k)
	if rest, ok := strings.CutPrefix(k, namespace+"."); ok {
		k = rest
	}
	return strings.TrimSpace(k)
}

// slugKey is the merge key GHL derives from a display name: "Booking Link" -> "booking_link".
func slugKey(name string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
			continue
		}
		if !underscore && b.Len() > 0 {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
