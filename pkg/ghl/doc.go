// Package ghl connects a location to GoHighLevel (GHL): the OAuth 2.0 authorization-code flow of
// the deployment's Marketplace app (or a Private Integration Token), the tokens kept encrypted at
// rest (AES-256-GCM under a key ring that can be rotated), the HTTP client of GHL's API (retries,
// a shared per-location rate limit, GHL's rate-limit headers as metrics), and the sync that keeps a
// location's record of GHL's workflow list in step with GHL.
//
// GHL's public API gives each workflow's id, name, status and version, never its steps (see
// docs/ghl.md): a sync records versions and marks imported workflows stale when GHL moved past the
// imported version; the steps still come from imports.
//
// Nothing in this package formats a token, a client secret or a key: they are held in Secret,
// whose String, GoString, LogValue and MarshalJSON redact, and errors name the operation and GHL's
// status, never a request or response body.
package ghl
