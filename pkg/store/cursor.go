package store

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// cursor is the position after which the next page starts: the (created_at, id) of the last row of
// the previous page. Lists are ordered by (created_at DESC, id DESC), and that pair is unique, so the
// next page is exactly the rows before it: rows inserted meanwhile are newer and cannot shift it.
type cursor struct {
	createdAt time.Time
	id        string
}

// encode returns the cursor as opaque base64url text. Callers must not parse it; the format may change.
func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.createdAt.UTC().Format(time.RFC3339Nano) + "|" + c.id))
}

// decodeCursor parses a cursor that encode returned for a row whose id starts with prefix. Anything
// else, including a cursor of another list, is ErrInvalidCursor.
func decodeCursor(s, prefix string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrInvalidCursor
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || !validID(prefix, id) {
		return cursor{}, ErrInvalidCursor
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, ErrInvalidCursor
	}
	c := cursor{createdAt: t.UTC(), id: id}
	// Only the canonical form is accepted, so that a cursor names one position in one way.
	if c.encode() != s {
		return cursor{}, ErrInvalidCursor
	}
	return c, nil
}

// pageLimit checks p.Limit and applies the default.
func pageLimit(p Page) (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultPageLimit, nil
	case p.Limit < 0 || p.Limit > MaxPageLimit:
		return 0, fmt.Errorf("%w: page limit %d is not in 1..%d", ErrInvalid, p.Limit, MaxPageLimit)
	default:
		return p.Limit, nil
	}
}
