package simulate

import (
	"fmt"
	"strconv"
	"time"
)

// Default limits. They bound the work one request can cause so the API can answer synchronously; a
// request over one fails with a *LimitError naming it, which the API answers with 422.
const (
	// DefaultHorizon is how long a simulation runs when the request does not say.
	DefaultHorizon = 30 * 24 * time.Hour
	// DefaultMaxHorizon is the longest horizon accepted: a year covers every nurture sequence and
	// anniversary reminder without letting a five-minute loop run for decades.
	DefaultMaxHorizon = 365 * 24 * time.Hour
	// DefaultMaxEvents is the most events (start included) one request may hold.
	DefaultMaxEvents = 10000
	// DefaultMaxSteps is the most steps a simulation may execute. A loop with a five-minute wait
	// that GHL's loop protection never catches runs about 8,640 laps in 30 days; this leaves room for
	// several of them, and the engine runs it in well under a second.
	DefaultMaxSteps = 100000
	// DefaultMaxWorkflowsEntered is the most workflow entries a simulation may make.
	DefaultMaxWorkflowsEntered = 5000
)

// Limit names, as LimitError.Limit reports them. They are the Limits field names.
const (
	LimitHorizon          = "MaxHorizon"
	LimitEvents           = "MaxEvents"
	LimitSteps            = "MaxSteps"
	LimitWorkflowsEntered = "MaxWorkflowsEntered"
)

// Limits bound one simulation. A zero or negative field takes its default.
type Limits struct {
	MaxHorizon          time.Duration
	MaxEvents           int
	MaxSteps            int
	MaxWorkflowsEntered int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxHorizon:          DefaultMaxHorizon,
		MaxEvents:           DefaultMaxEvents,
		MaxSteps:            DefaultMaxSteps,
		MaxWorkflowsEntered: DefaultMaxWorkflowsEntered,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxHorizon > 0 {
		d.MaxHorizon = l.MaxHorizon
	}
	if l.MaxEvents > 0 {
		d.MaxEvents = l.MaxEvents
	}
	if l.MaxSteps > 0 {
		d.MaxSteps = l.MaxSteps
	}
	if l.MaxWorkflowsEntered > 0 {
		d.MaxWorkflowsEntered = l.MaxWorkflowsEntered
	}
	return d
}

// LimitError is a simulation over one of the Limits. Limit is one of the Limit constants; Max and
// Got are in the limit's unit (minutes for MaxHorizon).
type LimitError struct {
	Limit string
	Max   int64
	Got   int64
}

// Error names the limit and both numbers.
func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitHorizon:
		return fmt.Sprintf("simulation exceeds %s: the horizon is %s; at most %s is allowed",
			e.Limit, formatHorizon(time.Duration(e.Got)*time.Minute), formatHorizon(time.Duration(e.Max)*time.Minute))
	case LimitSteps:
		return fmt.Sprintf("simulation exceeds %s: it executed %d steps; at most %d are allowed", e.Limit, e.Got, e.Max)
	case LimitWorkflowsEntered:
		return fmt.Sprintf("simulation exceeds %s: it made %d workflow entries; at most %d are allowed", e.Limit, e.Got, e.Max)
	}
	return fmt.Sprintf("simulation exceeds %s: the request holds %d events; at most %d are allowed", e.Limit, e.Got, e.Max)
}

// InputError is a request the engine cannot use: Field is a path into the request such as
// "contact.timezone" or "events[3].at".
type InputError struct {
	Field   string
	Message string
}

// Error returns "FIELD: MESSAGE".
func (e *InputError) Error() string { return e.Field + ": " + e.Message }

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseHorizon reads a horizon written as days, hours and minutes in that order, each optional but
// not all absent: "30d", "36h", "1d12h", "90m". Empty means DefaultHorizon.
func ParseHorizon(s string) (time.Duration, error) {
	if s == "" {
		return DefaultHorizon, nil
	}
	var total time.Duration
	rest := s
	units := []struct {
		suffix byte
		unit   time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}}
	for _, u := range units {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || rest[i] != u.suffix {
			continue
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > 1_000_000 {
			return 0, fmt.Errorf("horizon %q: number too large", s)
		}
		total += time.Duration(n) * u.unit
		rest = rest[i+1:]
	}
	if rest != "" || total <= 0 {
		return 0, fmt.Errorf("horizon %q: want days, hours and minutes such as 30d, 36h or 1d12h", s)
	}
	return total, nil
}

// formatHorizon writes d the way ParseHorizon reads it.
func formatHorizon(d time.Duration) string {
	m := int64(d / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	out := ""
	if days > 0 {
		out += strconv.FormatInt(days, 10) + "d"
	}
	if hours > 0 {
		out += strconv.FormatInt(hours, 10) + "h"
	}
	if mins > 0 || out == "" {
		out += strconv.FormatInt(mins, 10) + "m"
	}
	return out
}
