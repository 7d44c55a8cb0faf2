package importer

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

func TestNormKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "snake stays", in: "contact_tag_added", want: "contact_tag_added"},
		{name: "camel case", in: "ContactTagAdded", want: "contact_tag_added"},
		{name: "dashes", in: "instagram-dm", want: "instagram_dm"},
		{name: "spaces and case", in: "  Form Submitted ", want: "form_submitted"},
		{name: "dots kept", in: "n8n-nodes-base.httpRequest", want: "n8n_nodes_base.http_request"},
		{name: "field path", in: "contact.tags", want: "contact.tags"},
		{name: "camel field", in: "tagsAdded", want: "tags_added"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, normKey(tt.in))
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want *analyzer.Duration
	}{
		{name: "days", in: "2 days", want: &analyzer.Duration{Value: 2, Unit: "days"}},
		{name: "singular minute", in: "1 minute", want: &analyzer.Duration{Value: 1, Unit: "minutes"}},
		{name: "months", in: "11 months", want: &analyzer.Duration{Value: 11, Unit: "months"}},
		{name: "compact", in: "45m", want: &analyzer.Duration{Value: 45, Unit: "minutes"}},
		{name: "object value unit", in: map[string]any{"value": jsonNumber("3"), "unit": "hours"}, want: &analyzer.Duration{Value: 3, Unit: "hours"}},
		{name: "builder startAfter", in: map[string]any{"type": "hour", "value": jsonNumber("2"), "when": "after"}, want: &analyzer.Duration{Value: 2, Unit: "hours"}},
		{name: "unlimited", in: "unlimited", want: nil},
		{name: "negative", in: "-2 days", want: nil},
		{name: "unknown unit", in: "2 fortnights", want: nil},
		{name: "object without value", in: map[string]any{"type": "days"}, want: nil},
		{name: "number alone", in: jsonNumber("5"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := parseDuration(tt.in)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormOperator(t *testing.T) {
	tests := []struct {
		name, in string
		values   int
		want     string
	}{
		{name: "double equals", in: "==", values: 1, want: "eq"},
		{name: "index-of-true one tag", in: "index-of-true", values: 1, want: "eq"},
		{name: "index-of-true several tags", in: "index-of-true", values: 2, want: "in"},
		{name: "is-any-of one", in: "is-any-of", values: 1, want: "eq"},
		{name: "not equal several", in: "!=", values: 3, want: "not_in"},
		{name: "has-changed", in: "has-changed", values: 0, want: "has_changed"},
		{name: "exists", in: "exists", values: 0, want: "has_value"},
		{name: "contain", in: "contain", values: 1, want: "contains"},
		{name: "string-contains-any-of", in: "string-contains-any-of", values: 2, want: "contains"},
		{name: "gte symbol", in: ">=", values: 1, want: "gte"},
		{name: "lt word", in: "lt", values: 1, want: "lt"},
		{name: "unknown kept lower-cased", in: "Starts-With", values: 1, want: "starts-with"},
		{name: "empty", in: "", values: 1, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, normOperator(tt.in, tt.values))
		})
	}
}

func TestLooksLikeID(t *testing.T) {
	require.True(t, looksLikeID("Yx3pL9qW2eR7tZ5vB1nM"))
	require.True(t, looksLikeID("9868a080-9dee-4d0d-b734-8e765da94f82"))
	require.False(t, looksLikeID("lead_state"))
	require.False(t, looksLikeID("contact.budget"))
	require.False(t, looksLikeID("di_preferred_time"))
	require.False(t, looksLikeID("short1"))
	require.False(t, looksLikeID("alllowercaseletters"))
}

func TestMaxNesting(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{name: "scalar", in: `"x"`, want: 0},
		{name: "flat object", in: `{"a":1}`, want: 1},
		{name: "nested", in: `{"a":[{"b":[]}]}`, want: 4},
		{name: "brackets in strings ignored", in: `{"a":"[[[{{{"}`, want: 1},
		{name: "escaped quote in string", in: `{"a":"\"[[["}`, want: 1},
		{name: "unbalanced closers", in: `]]]{`, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, maxNesting([]byte(tt.in)))
		})
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n  x\n}")
	line, col := lineCol(data, 14)
	require.Equal(t, 3, line)
	require.Equal(t, 3, col)
	line, col = lineCol(data, 0)
	require.Equal(t, 1, line)
	require.Equal(t, 1, col)
	line, col = lineCol([]byte("{\"é\": x}"), 7)
	require.Equal(t, 1, line)
	require.Equal(t, 7, col, "columns count characters, not bytes")
}

func jsonNumber(s string) json.Number { return json.Number(s) }

func TestParentPrefix(t *testing.T) {
	ids := map[string]bool{"0b7e5a10-1c2d-4e3f-8a9b-000000000003": true, "t1": true}
	exists := func(s string) bool { return ids[s] }
	id, ok := parentPrefix("0b7e5a10-1c2d-4e3f-8a9b-000000000003-Not now", exists)
	require.True(t, ok)
	require.Equal(t, "0b7e5a10-1c2d-4e3f-8a9b-000000000003", id)
	id, ok = parentPrefix("t1-yes", exists)
	require.True(t, ok)
	require.Equal(t, "t1", id)
	_, ok = parentPrefix("s6-deleted", exists)
	require.False(t, ok)
	_, ok = parentPrefix("", exists)
	require.False(t, ok)
}

func TestClampInt(t *testing.T) {
	require.Equal(t, 1440, clampInt(1440.2))
	require.Equal(t, math.MaxInt32, clampInt(5e305))
	require.Equal(t, -math.MaxInt32, clampInt(-1e300))
	require.Equal(t, 0, clampInt(-0.0))
}
