package ghl

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints as, whatever it holds.
const redacted = "[REDACTED]"

// Secret holds a token, a client secret or a key. Every way of printing it (fmt's verbs, slog,
// encoding/json) shows "[REDACTED]", so that a secret passed to a log line or an error by mistake
// does not leak; Reveal is the one way to read it, used only where it is sent to GHL or encrypted.
type Secret struct {
	// value is unexported so that no reflection-based printer (fmt's %+v of a containing struct,
	// a JSON encoder) can reach it.
	value string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return s.value }

// Empty reports whether the secret is unset.
func (s Secret) Empty() bool { return s.value == "" }

// String redacts.
func (s Secret) String() string { return redacted }

// GoString redacts, for %#v.
func (s Secret) GoString() string { return redacted }

// Format redacts for every verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts in slog's output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts in JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText redacts where a text form is asked for.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
