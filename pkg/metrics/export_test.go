package metrics

import "time"

// NewActiveSetWithClock is NewActiveSet reading the time from now, for tests.
func NewActiveSetWithClock(window time.Duration, now func() time.Time) *ActiveSet {
	s := NewActiveSet(window)
	s.now = now
	return s
}
