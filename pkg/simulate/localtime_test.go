package simulate

import (
	"slices"
	"testing"
	"time"
)

// TestZoneClockMatchesTimePackage checks the cached-offset clock against the time package over two
// centuries, in zones with DST, half- and quarter-hour offsets, and offsets in seconds (which the
// clock leaves to the time package): the trace's local times must not change by a byte. It is an
// internal test because the clock is an unexported detail of writing the trace.
func TestZoneClockMatchesTimePackage(t *testing.T) {
	tests := []struct {
		name string
	}{
		{name: "UTC"},
		{name: "America/New_York"},
		{name: "America/St_Johns"},
		{name: "Australia/Lord_Howe"},
		{name: "Asia/Kathmandu"},
		{name: "Pacific/Chatham"},
		{name: "Africa/Monrovia"},
		{name: "Europe/Dublin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone, err := time.LoadLocation(tt.name)
			if err != nil {
				t.Skipf("zone database lacks %s: %v", tt.name, err)
			}
			clock := newZoneClock(zone)
			e := &engine{zone: zone, clock: clock}
			// An odd step visits every hour and minute of the day over the years, and runs both
			// forwards and back across each DST change.
			step := 7*time.Hour + 13*time.Minute + 17*time.Second
			from := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
			to := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
			var buf []byte
			for at := from; at.Before(to); at = at.Add(step) {
				for _, u := range []time.Time{at, at.Add(-3 * step / 2)} {
					buf = clock.appendRFC3339(buf[:0], u)
					if want := u.In(zone).Format(time.RFC3339); string(buf) != want {
						t.Fatalf("appendRFC3339(%v) = %q, want %q", u, buf, want)
					}
					if got, want := e.localText(u), u.In(zone).Format("Mon 2 Jan 15:04"); got != want {
						t.Fatalf("localText(%v) = %q, want %q", u, got, want)
					}
				}
			}
		})
	}
}

// TestOpenNowAgreesWithTheCalendar checks nextOpen's fast path: whenever it answers, t must lie in
// the window on its own day as time.Date places the window's bounds in the zone (which is what the
// general walk over days tests), across DST changes and in zones with odd offsets.
func TestOpenNowAgreesWithTheCalendar(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		sh, sm     int
		eh, em     int
		days       []int
		wantAnswer bool
	}{
		{name: "evening limit", zone: "America/New_York", sh: 8, eh: 21, wantAnswer: true},
		{name: "whole day", zone: "Europe/London", eh: 24, wantAnswer: true},
		{name: "weekdays", zone: "Australia/Lord_Howe", sh: 9, sm: 30, eh: 17, em: 15, days: []int{1, 2, 3, 4, 5}, wantAnswer: true},
		{name: "quarter-hour zone", zone: "Asia/Kathmandu", sh: 2, sm: 45, eh: 3, em: 15, wantAnswer: true},
		{name: "past midnight never answers", zone: "America/Chicago", sh: 22, eh: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Skipf("zone database lacks %s: %v", tt.zone, err)
			}
			f := &flow{zone: zone}
			answered := 0
			for at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2027; at = at.Add(37*time.Minute + 11*time.Second) {
				got, ok := f.openNow(at, tt.sh*60+tt.sm, tt.eh*60+tt.em, tt.days)
				if !ok {
					continue
				}
				answered++
				lt := at.In(zone)
				y, mo, d := lt.Date()
				open := time.Date(y, mo, d, tt.sh, tt.sm, 0, 0, zone)
				closeAt := time.Date(y, mo, d, tt.eh, tt.em, 0, 0, zone)
				dayOK := len(tt.days) == 0 || slices.Contains(tt.days, int(lt.Weekday()))
				if !got.Equal(at) || at.Before(open) || !at.Before(closeAt) || !dayOK {
					t.Fatalf("openNow(%v) = %v, true; the window that day is %v to %v (weekday allowed: %v)", lt, got, open, closeAt, dayOK)
				}
			}
			if (answered > 0) != tt.wantAnswer {
				t.Fatalf("the fast path answered %d times, want answers: %v", answered, tt.wantAnswer)
			}
		})
	}
}
