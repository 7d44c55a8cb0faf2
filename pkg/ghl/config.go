package ghl

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The environment variables of the GHL settings, as cmd/ghl-debugger reads them. Missing names
// them, so that the 501 ghl-not-configured tells an operator exactly what to set.
const (
	EnvClientID     = "GHLD_GHL_CLIENT_ID"
	EnvClientSecret = "GHLD_GHL_CLIENT_SECRET"
	EnvRedirectURL  = "GHLD_GHL_REDIRECT_URL"
	EnvScopes       = "GHLD_GHL_SCOPES"
	EnvAuthURL      = "GHLD_GHL_AUTH_URL"
	EnvAPIURL       = "GHLD_GHL_API_URL"
	EnvAPIVersion   = "GHLD_GHL_API_VERSION"
	EnvTokenKeys    = "GHLD_GHL_TOKEN_KEYS"
)

// Defaults of Config, from GHL's documentation (docs/ghl.md cites it).
const (
	// DefaultAuthURL is the base of GHL's choose-location page. White-label agencies use
	// https://marketplace.leadconnectorhq.com instead.
	DefaultAuthURL = "https://marketplace.gohighlevel.com"
	// DefaultAPIURL is the base of GHL's API v2, token endpoint included.
	DefaultAPIURL = "https://services.leadconnectorhq.com"
	// DefaultAPIVersion is the Version header GHL's workflow list requires.
	DefaultAPIVersion = "2021-07-28"
	// DefaultScopes is the one scope a sync needs: the workflow list.
	DefaultScopes = "workflows.readonly"
)

// Config is the deployment's GHL settings. The zero value is a deployment without GHL: Missing
// names what it lacks, and the GHL routes answer 501 while everything else works.
type Config struct {
	// ClientID and ClientSecret are the Marketplace app's credentials (Advanced Settings, Auth).
	ClientID     string
	ClientSecret Secret
	// RedirectURL is the app's redirect URL, which must be registered in the app: the absolute URL
	// of the service's GET /v1/ghl/oauth/callback.
	RedirectURL string
	// Scopes are requested on the choose-location page; empty means DefaultScopes.
	Scopes []string
	// AuthURL and APIURL are GHL's bases; empty means the defaults. Tests point them at ghltest.
	AuthURL string
	APIURL  string
	// APIVersion is the Version header of API calls; empty means DefaultAPIVersion.
	APIVersion string
	// TokenKeys encrypt the tokens at rest; nil means none configured (see ParseKeyRing).
	TokenKeys *KeyRing
}

// Missing names the settings (environment variables) that the OAuth flow needs and that are not
// set, in a fixed order; nil when the OAuth routes can work.
func (c Config) Missing() []string {
	var out []string
	if c.ClientID == "" {
		out = append(out, EnvClientID)
	}
	if c.ClientSecret.Empty() {
		out = append(out, EnvClientSecret)
	}
	if c.RedirectURL == "" {
		out = append(out, EnvRedirectURL)
	}
	return append(out, c.MissingForPIT()...)
}

// MissingForPIT names the settings that connecting with a Private Integration Token needs and that
// are not set: only the token key, since such a token needs no Marketplace app.
func (c Config) MissingForPIT() []string {
	if c.TokenKeys == nil {
		return []string{EnvTokenKeys}
	}
	return nil
}

// Validate checks the values that are set; an unset value is not an error (see Missing).
func (c Config) Validate() error {
	var errs []error
	for _, u := range []struct{ env, value string }{
		{EnvRedirectURL, c.RedirectURL}, {EnvAuthURL, c.AuthURL}, {EnvAPIURL, c.APIURL},
	} {
		if u.value == "" {
			continue
		}
		parsed, err := url.Parse(u.value)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an absolute http:// or https:// URL", u.env))
		}
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
			errs = append(errs, fmt.Errorf("%s: a scope is a word without spaces, such as workflows.readonly", EnvScopes))
			break
		}
	}
	return errors.Join(errs...)
}

// scopes returns the scopes to request.
func (c Config) scopes() []string {
	if len(c.Scopes) == 0 {
		return strings.Fields(DefaultScopes)
	}
	return c.Scopes
}

// authURL, apiURL and apiVersion return the configured values or the defaults, without a trailing
// slash on the URLs.
func (c Config) authURL() string { return strings.TrimRight(cmp.Or(c.AuthURL, DefaultAuthURL), "/") }
func (c Config) apiURL() string  { return strings.TrimRight(cmp.Or(c.APIURL, DefaultAPIURL), "/") }
func (c Config) apiVersion() string {
	return cmp.Or(c.APIVersion, DefaultAPIVersion)
}

// StateTTL is how long an authorization's state is accepted: long enough to log in to GHL and
// pick a sub-account, short enough that a leaked URL is soon useless.
const StateTTL = 10 * time.Minute
