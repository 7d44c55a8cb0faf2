package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScanMergeFields(t *testing.T) {
	tests := []struct {
		name string
		text string
		// want lists each placeholder as Raw, then "=" and Expr when well formed, or "!" and Problem.
		want []string
	}{
		{name: "no braces", text: "Hello there", want: nil},
		{name: "plain", text: "Hi {{contact.first_name}}!", want: []string{"{{contact.first_name}}=contact.first_name"}},
		{name: "padding and a Liquid filter", text: `Hi {{ contact.first_name | default: "there" }}`,
			want: []string{`{{ contact.first_name | default: "there" }}=contact.first_name`}},
		{name: "never closed", text: "Hi {{contact.first_name, welcome",
			want: []string{"{{contact.first_name!is never closed with }}"}},
		{name: "closed with one brace before another placeholder", text: "{{contact.first_name} and {{contact.last_name}}",
			want: []string{"{{contact.first_name}!is closed with a single }", "{{contact.last_name}}=contact.last_name"}},
		{name: "closed with one brace before a single-brace one", text: "{{contact.first_name} {contact.last_name}}",
			want: []string{"{{contact.first_name}!is closed with a single }", "{contact.last_name}}!uses single braces"}},
		{name: "empty", text: "x {{}} y", want: []string{"{{}}!is empty"}},
		{name: "space inside the name", text: "{{contact. email}}", want: []string{"{{contact. email}}!has a space inside the field name"}},
		{name: "single braces of a known namespace", text: "Book at {custom_values.booking_link}",
			want: []string{"{custom_values.booking_link}!uses single braces"}},
		{name: "JSON, CSS and Liquid tags are not placeholders", text: `{"a": {"b": 1}} p{color:red} {% if contact.city %}x{% endif %}`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range scanMergeFields(nil, tt.text) {
				if m.Problem != "" {
					got = append(got, m.Raw+"!"+m.Problem)
				} else {
					got = append(got, m.Raw+"="+m.Expr)
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMergeProblem(t *testing.T) {
	mc := mergeContext{
		fields: map[string]bool{"budget": true},
		values: map[string]string{"booking_link": "", "review_link": "https://g.page/acme"},
	}
	tests := []struct {
		name        string
		text        string
		ctx         mergeContext
		appointment bool
		// wantProblem is a fragment of the message; empty means the placeholder is fine.
		wantProblem string
		needFields  bool
		needValues  bool
	}{
		{name: "standard contact field", text: "{{contact.first_name}}", ctx: mc},
		{name: "custom field of the location", text: "{{ contact.Budget }}", ctx: mc},
		{name: "unknown contact field", text: "{{contact.nickname}}", ctx: mc, wantProblem: "neither a standard contact field"},
		{name: "custom segment", text: "{{contact.custom.budget}}", ctx: mc, wantProblem: ".custom. segment"},
		{name: "custom segment needs no context", text: "{{contact.custom_fields.budget}}", wantProblem: ".custom_fields. segment"},
		{name: "unknown contact field without context", text: "{{contact.nickname}}", needFields: true},
		{name: "empty custom value", text: "{{custom_values.booking_link}}", ctx: mc, wantProblem: "no value set"},
		{name: "missing custom value", text: "{{custom_values.promo}}", ctx: mc, wantProblem: "not a custom value"},
		{name: "custom value with a value", text: "{{ custom_values.review_link }}", ctx: mc},
		{name: "custom value without context", text: "{{custom_values.promo}}", needValues: true},
		{name: "singular namespace", text: "{{custom_value.review_link}}", ctx: mc, wantProblem: "namespace custom_value"},
		{name: "appointment field without an appointment trigger", text: "{{appointment.start_time}}", wantProblem: "no appointment trigger"},
		{name: "appointment field with one", text: "{{appointment.start_time}}", appointment: true},
		{name: "other namespaces are not judged", text: "{{location.name}} {{user.email}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var problems []string
			var needFields, needValues bool
			for _, m := range scanMergeFields(nil, tt.text) {
				msg, f, v := mergeProblem(m, tt.ctx, tt.appointment)
				if msg != "" {
					problems = append(problems, msg)
				}
				needFields, needValues = needFields || f, needValues || v
			}
			if tt.wantProblem == "" {
				require.Empty(t, problems)
			} else {
				require.Len(t, problems, 1)
				require.Contains(t, problems[0], tt.wantProblem)
			}
			require.Equal(t, tt.needFields, needFields, "needs custom fields")
			require.Equal(t, tt.needValues, needValues, "needs custom values")
		})
	}
}

func TestNormalizeMergeKey(t *testing.T) {
	require.Equal(t, "booking_link", normalizeMergeKey("{{ custom_values.booking_link }}", "custom_values"))
	require.Equal(t, "budget", normalizeMergeKey("contact.Budget", "contact"))
	require.Equal(t, "booking_link", slugKey("  Booking Link! "))
}
