package analyzer

import (
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Webhook risks: where a webhook sends the contact's data and what it gives away on the way. GHL's
// servers send the request, so an address that only resolves on a developer's machine never receives
// it, a tunnel or request bin hands contact data to whoever holds the link, and a credential typed into
// the step is readable by everyone who can open the workflow or a snapshot of it.

// hostRisk classifies a webhook host: "local" (loopback, private network, .local), "tunnel" (ngrok
// and the like) or "bin" (a request-inspection service); empty when none applies.
func hostRisk(host string) (kind, service string) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if h == "" {
		return "", ""
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") || strings.HasSuffix(h, ".internal") {
		return "local", h
	}
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
			return "local", h
		}
		return "", ""
	}
	// Look the host and each of its parent domains up: "a.b.ngrok.io", "b.ngrok.io", "ngrok.io", "io".
	for d := h; d != ""; {
		if kind, ok := riskyDomains[d]; ok {
			return kind, d
		}
		_, parent, found := strings.Cut(d, ".")
		if !found {
			break
		}
		d = parent
	}
	return "", ""
}

// riskyDomains maps each tunnel and request-bin domain to its kind.
var riskyDomains = func() map[string]string {
	m := make(map[string]string, len(tunnelHosts)+len(requestBinHosts))
	for _, d := range tunnelHosts {
		m[d] = "tunnel"
	}
	for _, d := range requestBinHosts {
		m[d] = "bin"
	}
	return m
}()

// tunnelHosts are domains of services that forward public requests to a developer's machine.
var tunnelHosts = []string{
	"ngrok.io", "ngrok.app", "ngrok.dev", "ngrok-free.app", "ngrok-free.dev", "loca.lt", "localtunnel.me",
	"trycloudflare.com", "serveo.net", "serveousercontent.com", "localhost.run", "lhr.life", "lhr.rocks",
	"pagekite.me", "tunnelto.dev", "telebit.io", "loclx.io", "localxpose.io", "sharedwithexpose.com",
	"expose.dev", "pinggy.link", "pinggy.io", "bore.pub", "devtunnels.ms", "zrok.io", "smee.io",
}

// requestBinHosts are domains of services that capture requests for inspection.
var requestBinHosts = []string{
	"webhook.site", "requestbin.com", "requestbin.net", "requestbin.io", "pipedream.net", "requestcatcher.com",
	"beeceptor.com", "hookbin.com", "mockbin.org", "mockbin.io", "postb.in", "ptsv2.com", "ptsv3.com",
	"webhook.cool", "typedwebhook.tools", "requestinspector.com", "webhookinbox.com", "httpbin.org",
	"requestswhat.com", "hookb.in",
}

// credentialHeaders are header names that carry a credential; a header whose lower-case name
// contains one of credentialHeaderParts does too.
var (
	credentialHeaders     = map[string]bool{"authorization": true, "proxy-authorization": true, "cookie": true}
	credentialHeaderParts = []string{"api-key", "apikey", "api_key", "token", "secret", "password", "auth"}
	// credentialParams are query parameters that carry a credential.
	credentialParams = map[string]bool{
		"token": true, "access_token": true, "auth_token": true, "api_key": true, "apikey": true, "api-key": true,
		"key": true, "secret": true, "client_secret": true, "password": true, "pass": true, "pwd": true, "auth": true,
		"sig": true, "signature": true,
	}
	// bodySecret finds "key": "value" or key=value pairs whose key names a credential.
	bodySecret = regexp.MustCompile(`(?i)(?:^|[\s"'{,&?])(api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|secret|client[_-]?secret|password|passwd|pwd)["']?\s*[:=]\s*["']?([^"'&,\s}]*)`)
	// bearerToken finds "Bearer <token>" or "Basic <credentials>" written out.
	bearerToken = regexp.MustCompile(`(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})`)
)

// mentionsSecret reports whether a text names a credential key bodySecret could match.
func mentionsSecret(s string) bool {
	lower := strings.ToLower(s)
	for _, k := range []string{"key", "token", "secret", "pass", "pwd"} {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// isLiteralSecret reports whether a credential value is typed in rather than filled from a merge
// field at send time: what is left after removing merge fields and an auth scheme is not empty.
func isLiteralSecret(v string) bool {
	v = strings.TrimSpace(v)
	for _, m := range scanMergeFields(nil, v) {
		v = strings.ReplaceAll(v, m.Raw, "")
	}
	v = strings.TrimSpace(v)
	for _, scheme := range []string{"bearer", "basic", "token"} {
		if len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			v = strings.TrimSpace(v[len(scheme):])
		}
	}
	return v != ""
}

// exposedCredentials lists where a webhook shows a credential in clear, naming the place (never the
// value): "the Authorization header", "the query parameter api_key", "the URL's user:password part",
// "a bearer token in the body", "the body field \"client_secret\"". Sorted and once each.
func exposedCredentials(w *Webhook, u *url.URL) []string {
	var out []string
	for _, h := range w.Headers {
		name := strings.ToLower(strings.TrimSpace(h.Key))
		hit := credentialHeaders[name]
		for _, part := range credentialHeaderParts {
			hit = hit || strings.Contains(name, part)
		}
		if hit && isLiteralSecret(h.Value) {
			out = append(out, "the "+strings.TrimSpace(h.Key)+" header")
		}
	}
	if u != nil {
		if u.User != nil {
			out = append(out, "the URL's user:password part")
		}
		for name, values := range queryOf(u) {
			if !credentialParams[strings.ToLower(name)] {
				continue
			}
			for _, v := range values {
				if isLiteralSecret(v) {
					out = append(out, "the URL's query parameter "+name)
					break
				}
			}
		}
	}
	// The regular expressions run only on texts that contain what they look for, which most webhook
	// bodies do not.
	for _, text := range []struct{ where, s string }{{"URL", w.URL}, {"body", w.Body}} {
		if lower := strings.ToLower(text.s); !strings.Contains(lower, "bearer") && !strings.Contains(lower, "basic") {
			continue
		}
		for _, m := range bearerToken.FindAllStringSubmatch(text.s, -1) {
			out = append(out, "a "+strings.ToLower(m[1])+" credential in the "+text.where)
		}
	}
	if mentionsSecret(w.Body) {
		for _, m := range bodySecret.FindAllStringSubmatch(w.Body, -1) {
			if isLiteralSecret(m[2]) {
				out = append(out, "the body field \""+m[1]+"\"")
			}
		}
	}
	sort.Strings(out)
	return compactStrings(out)
}

// compactStrings removes adjacent duplicates of a sorted list.
func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// queryOf parses u's query, or returns nil without allocating when it has none.
func queryOf(u *url.URL) url.Values {
	if u.RawQuery == "" {
		return nil
	}
	return u.Query()
}

// parseWebhookURL parses a webhook URL written with a literal scheme and host. It returns nil when
// the URL is empty, is a merge field as a whole ({{custom_values.webhook_url}}), or does not parse;
// merge fields in the path or query are kept as they are.
func parseWebhookURL(raw string) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "{{") {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}
