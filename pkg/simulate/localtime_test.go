package simulate

import (
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
