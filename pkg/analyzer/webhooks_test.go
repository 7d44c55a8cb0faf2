package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHostRisk(t *testing.T) {
	tests := []struct {
		host, kind, service string
	}{
		{host: "localhost", kind: "local", service: "localhost"},
		{host: "127.0.0.1", kind: "local", service: "127.0.0.1"},
		{host: "192.168.1.20", kind: "local", service: "192.168.1.20"},
		{host: "::1", kind: "local", service: "::1"},
		{host: "printer.local", kind: "local", service: "printer.local"},
		{host: "abc123.ngrok-free.app", kind: "tunnel", service: "ngrok-free.app"},
		{host: "quiet-sun.trycloudflare.com", kind: "tunnel", service: "trycloudflare.com"},
		{host: "Webhook.Site.", kind: "bin", service: "webhook.site"},
		{host: "eo1x2y3.m.pipedream.net", kind: "bin", service: "pipedream.net"},
		{host: "8.8.8.8"},
		{host: "crm.example.com"},
		{host: "notngrok.io.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			kind, service := hostRisk(tt.host)
			require.Equal(t, tt.kind, kind)
			require.Equal(t, tt.service, service)
		})
	}
}

func TestExposedCredentials(t *testing.T) {
	tests := []struct {
		name string
		hook Webhook
		want []string
	}{
		{
			name: "literal authorization header",
			hook: Webhook{URL: "https://crm.example.com/h", Headers: []Header{{Key: "Authorization", Value: "Bearer sk_live_123456789"}}},
			want: []string{"the Authorization header"},
		},
		{
			name: "headers filled from custom values",
			hook: Webhook{URL: "https://crm.example.com/h", Headers: []Header{
				{Key: "Authorization", Value: "Bearer {{custom_values.token}}"}, {Key: "X-Api-Key", Value: "{{ custom_values.key }}"},
				{Key: "Content-Type", Value: "application/json"},
			}},
		},
		{
			name: "api key header and query parameter",
			hook: Webhook{URL: "https://crm.example.com/h?api_key=abc123&id={{contact.id}}&token={{custom_values.t}}", Headers: []Header{{Key: "x-api-key", Value: "k-1"}}},
			want: []string{"the URL's query parameter api_key", "the x-api-key header"},
		},
		{
			name: "basic auth in the URL",
			hook: Webhook{URL: "https://user:pass@crm.example.com/h"},
			want: []string{"the URL's user:password part"},
		},
		{
			name: "secrets in the body",
			hook: Webhook{URL: "https://crm.example.com/h", Body: `{"password": "hunter22", "token": "{{custom_values.t}}", "name": "{{contact.name}}", "auth": "Bearer abcdefgh12345"}`},
			want: []string{"a bearer credential in the body", `the body field "password"`},
		},
		{
			name: "form-encoded body",
			hook: Webhook{URL: "https://crm.example.com/h", Body: "client_secret=xyz789&email={{contact.email}}"},
			want: []string{`the body field "client_secret"`},
		},
		{
			name: "nothing secret",
			hook: Webhook{URL: "https://crm.example.com/h?id={{contact.id}}", Body: `{"token_type": "lead", "secretary": "Ann"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exposedCredentials(&tt.hook, parseWebhookURL(tt.hook.URL))
			if len(tt.want) == 0 {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseWebhookURL(t *testing.T) {
	require.Nil(t, parseWebhookURL("{{custom_values.webhook_url}}"))
	require.Nil(t, parseWebhookURL(""))
	require.Nil(t, parseWebhookURL("not a url"))
	u := parseWebhookURL(" https://crm.example.com/leads/{{contact.id}}?x=1 ")
	require.NotNil(t, u)
	require.Equal(t, "crm.example.com", u.Hostname())
}
