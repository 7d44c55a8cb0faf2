package simulate

import (
	"math"
	"time"
)

// zoneClock turns instants into the contact's wall-clock time without asking the time package to
// look the zone up for each one. A zone keeps one offset for months at a time (between DST
// changes), and a run's trace holds thousands of entries, nearly all inside the same span; so the
// clock remembers the span the last offset holds for and converts by adding that offset to the
// instant. Profiling showed the per-entry zone lookup and time.Format at about a sixth of a busy
// run's CPU time.
type zoneClock struct {
	zone *time.Location
	// from and until bound, in Unix seconds, the span [from, until) in which offset holds; an empty
	// span (the zero value) makes the first use look the zone up.
	from, until int64
	offset      int
}

// newZoneClock returns a clock for zone.
func newZoneClock(zone *time.Location) zoneClock {
	return zoneClock{zone: zone}
}

// offsetAt returns the zone's offset from UTC, in seconds, at the instant sec (Unix seconds).
func (z *zoneClock) offsetAt(sec int64) int {
	if sec < z.from || sec >= z.until {
		lt := time.Unix(sec, 0).In(z.zone)
		_, z.offset = lt.Zone()
		start, end := lt.ZoneBounds()
		// Zero bounds mean the offset holds from the beginning or to the end of time (always so for
		// UTC and fixed zones).
		z.from, z.until = math.MinInt64, math.MaxInt64
		if !start.IsZero() {
			z.from = start.Unix()
		}
		if !end.IsZero() {
			z.until = end.Unix()
		}
	}
	return z.offset
}

// wall returns t moved by the zone's offset and labelled UTC: its Date, Clock, Weekday and
// Format("15:04") read what a clock in the zone shows at t. It is for reading fields and writing
// text only, never for comparing with other instants.
func (z *zoneClock) wall(t time.Time) time.Time {
	return t.Add(time.Duration(z.offsetAt(t.Unix())) * time.Second).UTC()
}

// appendRFC3339 appends t in the zone exactly as t.In(zone).Format(time.RFC3339) writes it:
// "2026-03-02T04:00:00-05:00", or "...Z" at offset zero. Offsets that are not whole minutes (local
// mean time, before 1900 in a few zones) and years outside four digits are left to the time package
// so the output never differs from it.
func (z *zoneClock) appendRFC3339(b []byte, t time.Time) []byte {
	off := z.offsetAt(t.Unix())
	w := t.Add(time.Duration(off) * time.Second).UTC()
	year, month, day := w.Date()
	if off%60 != 0 || year < 0 || year > 9999 {
		return t.In(z.zone).AppendFormat(b, time.RFC3339)
	}
	hour, minute, second := w.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = appendTwo(b, int(month), '-')
	b = appendTwo(b, day, 'T')
	b = appendTwo(b, hour, ':')
	b = appendTwo(b, minute, ':')
	b = appendTwo(b, second, 0)
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendTwo(b, off/3600, ':')
	return appendTwo(b, off/60%60, 0)
}

// appendTwo appends n (0 to 99) as two digits, then sep unless it is zero.
func appendTwo(b []byte, n int, sep byte) []byte {
	b = append(b, byte('0'+n/10), byte('0'+n%10))
	if sep != 0 {
		b = append(b, sep)
	}
	return b
}
