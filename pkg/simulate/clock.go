package simulate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// addDuration adds a wait's duration to t. Whole days, weeks, months and years are calendar units in
// the workflow's zone, so "wait 1 day" from 09:00 ends at 09:00 across a DST change, as an agency
// expects; minutes and hours are elapsed time. A duration so long that it would overflow ends just
// after the horizon.
func (e *engine) addDuration(r *run, t time.Time, d *analyzer.Duration) time.Time {
	if d == nil || !(d.Value > 0) {
		return t
	}
	mins := d.Minutes()
	horizonMins := float64(e.end.Sub(t)/time.Minute) + 1
	if math.IsNaN(mins) || math.IsInf(mins, 0) || mins > horizonMins {
		return e.end.Add(time.Minute)
	}
	if d.Value == math.Trunc(d.Value) {
		n := int(d.Value)
		z := r.f.zone
		if r.f.wf.Settings.Timezone == "" || r.f.wf.Settings.Timezone == "account" {
			e.accountZoneUsed(r)
		}
		switch strings.ToLower(d.Unit) {
		case "day", "days":
			return t.In(z).AddDate(0, 0, n).UTC()
		case "week", "weeks":
			return t.In(z).AddDate(0, 0, 7*n).UTC()
		case "month", "months":
			return t.In(z).AddDate(0, n, 0).UTC()
		case "year", "years":
			return t.In(z).AddDate(n, 0, 0).UTC()
		}
	}
	return t.Add(time.Duration(math.Round(mins * float64(time.Minute))))
}

// parseHM reads "HH:MM".
func parseHM(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, 0, false
	}
	return h, m, true
}

// nextOpen returns the first moment at or after t when window w is open, in the workflow's zone. A
// window whose end is at or before its start runs past midnight. ok is false for a window the
// engine cannot read, which then holds nothing (recorded as an assumption).
func (e *engine) nextOpen(r *run, t time.Time, w *analyzer.TimeWindow) (time.Time, bool) {
	sh, sm, ok1 := parseHM(w.Start)
	eh, em, ok2 := parseHM(w.End)
	if !ok1 || !ok2 || (sh == eh && sm == em) {
		e.assume(r, r.f.wf.Steps[r.step].ID, AssumeUnreadStep, "Time window %s-%s cannot be read; it holds nothing.", w.Start, w.End)
		return t, false
	}
	days := w.Days
	if len(days) > 0 && !slices.ContainsFunc(days, func(d int) bool { return d >= 0 && d <= 6 }) {
		e.assume(r, r.f.wf.Steps[r.step].ID, AssumeUnreadStep, "Time window days %v name no weekday; the window holds nothing.", days)
		return t, false
	}
	if !r.f.contactZone && (r.f.wf.Settings.Timezone == "" || r.f.wf.Settings.Timezone == "account") {
		e.accountZoneUsed(r)
	}
	if open, ok := r.f.openNow(t, sh*60+sm, eh*60+em, days); ok {
		return open, true
	}
	z := r.f.zone
	lt := t.In(z)
	y, mo, d := lt.Date()
	for i := -1; i <= 8; i++ {
		day := time.Date(y, mo, d+i, 12, 0, 0, 0, z)
		if len(days) > 0 && !slices.Contains(days, int(day.Weekday())) {
			continue
		}
		yy, mm, dd := day.Date()
		open := time.Date(yy, mm, dd, sh, sm, 0, 0, z)
		closeAt := time.Date(yy, mm, dd, eh, em, 0, 0, z)
		if !closeAt.After(open) {
			closeAt = time.Date(yy, mm, dd+1, eh, em, 0, 0, z)
		}
		if !t.Before(closeAt) {
			continue
		}
		if t.Before(open) {
			return open.UTC(), true
		}
		return t, true
	}
	return t, true
}

// openNow is nextOpen's fast path for the usual case: t falls inside the window on its own day,
// the window does not run past midnight, and the zone's offset does not change within two days
// of t. Then the answer is t itself, found from t's wall clock alone; the general walk over days
// with time.Date (a zone lookup each) cost about a twentieth of a busy run, since every message of
// a windowed workflow asks. start and end are the window's bounds in minutes of the day; ok is
// false when the fast path does not apply and the caller must walk.
func (f *flow) openNow(t time.Time, start, end int, days []int) (time.Time, bool) {
	if end <= start {
		return t, false
	}
	if f.clock.zone == nil {
		f.clock = newZoneClock(f.zone)
	}
	sec := t.Unix()
	off := f.clock.offsetAt(sec)
	if sec-2*86400 < f.clock.from || sec+2*86400 >= f.clock.until {
		return t, false
	}
	w := t.Add(time.Duration(off) * time.Second).UTC()
	if len(days) > 0 && !slices.Contains(days, int(w.Weekday())) {
		return t, false
	}
	h, m, s := w.Clock()
	tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(w.Nanosecond())
	if tod < time.Duration(start)*time.Minute || tod >= time.Duration(end)*time.Minute {
		return t, false
	}
	return t, true
}

var weekdayNames = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func windowText(w *analyzer.TimeWindow, zone string) string {
	days := "every day"
	if len(w.Days) > 0 {
		var names []string
		for _, d := range w.Days {
			if d >= 0 && d <= 6 {
				names = append(names, weekdayNames[d])
			}
		}
		days = strings.Join(names, ",")
	}
	return fmt.Sprintf("%s %s-%s in %s", days, w.Start, w.End, zone)
}
