package api

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

func TestFieldName(t *testing.T) {
	tests := []struct {
		name string
		path []string
		want string
	}{
		{name: "body", path: nil, want: "body"},
		{name: "top-level property", path: []string{"ghlLocationId"}, want: "ghlLocationId"},
		{name: "nested", path: []string{"context", "tags"}, want: "context.tags"},
		{name: "array element", path: []string{"workflows", "0", "name"}, want: "workflows[0].name"},
		{name: "numeric first segment stays a name", path: []string{"0"}, want: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, fieldName(tt.path))
		})
	}
}

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{name: "uuid", id: "3f2b8c1e-9d4a-4e7b-8f00-1a2b3c4d5e6f", want: true},
		{name: "trace style", id: "trace:abc_1.2", want: true},
		{name: "longest", id: strings.Repeat("a", maxRequestIDLength), want: true},
		{name: "empty", id: "", want: false},
		{name: "too long", id: strings.Repeat("a", maxRequestIDLength+1), want: false},
		{name: "space", id: "a b", want: false},
		{name: "newline", id: "a\nb", want: false},
		{name: "quote", id: `a"b`, want: false},
		{name: "non-ascii", id: "é", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, validRequestID(tt.id))
		})
	}
}

func TestDedupe(t *testing.T) {
	in := []gen.InvalidField{
		{Field: "name", Location: gen.InvalidFieldLocationBody, Reason: "b"},
		{Field: "limit", Location: gen.InvalidFieldLocationQuery, Reason: "a"},
		{Field: "name", Location: gen.InvalidFieldLocationBody, Reason: "a"},
		{Field: "name", Location: gen.InvalidFieldLocationBody, Reason: "b"},
	}
	require.Equal(t, []gen.InvalidField{
		{Field: "name", Location: gen.InvalidFieldLocationBody, Reason: "a"},
		{Field: "name", Location: gen.InvalidFieldLocationBody, Reason: "b"},
		{Field: "limit", Location: gen.InvalidFieldLocationQuery, Reason: "a"},
	}, dedupe(in))
}
