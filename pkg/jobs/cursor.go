package jobs

import (
	"encoding/base64"
	"encoding/json"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// jobCursor is the position after which List's next page starts: the id of the last job of the
// previous page. The list is ordered by id, newest first, and ids only grow, so jobs enqueued
// meanwhile cannot shift a page.
type jobCursor struct {
	ID int64 `json:"id"`
}

// encodeCursor returns the cursor after job id as opaque base64url text.
func encodeCursor(id int64) string {
	raw, _ := json.Marshal(jobCursor{ID: id}) // a struct of one integer always encodes
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor parses a cursor that encodeCursor returned; anything else is
// store.ErrInvalidCursor.
func decodeCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, store.ErrInvalidCursor
	}
	var c jobCursor
	if err := json.Unmarshal(raw, &c); err != nil || c.ID < 1 || encodeCursor(c.ID) != s {
		return 0, store.ErrInvalidCursor
	}
	return c.ID, nil
}
