package metrics

import (
	"sync"
	"time"
)

// ActiveSet counts the distinct ids seen within a sliding window, such as the accounts that called
// the API in the last five minutes. It keeps one timestamp per id seen within the window, so its
// size is bounded by the ids that are active, and it never exports the ids themselves.
type ActiveSet struct {
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
}

// NewActiveSet returns an empty set over the given window.
func NewActiveSet(window time.Duration) *ActiveSet {
	return &ActiveSet{window: window, now: time.Now, seen: map[string]time.Time{}}
}

// Seen records id as active now.
func (s *ActiveSet) Seen(id string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[id] = now
	// Without scrapes nothing else would forget old ids; a sweep once per window keeps the map to
	// the ids of about two windows.
	if now.Sub(s.lastPrune) > s.window {
		s.pruneLocked(now)
	}
}

// Count returns how many ids were seen within the window, forgetting the older ones.
func (s *ActiveSet) Count() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	return len(s.seen)
}

func (s *ActiveSet) pruneLocked(now time.Time) {
	for id, t := range s.seen {
		if now.Sub(t) > s.window {
			delete(s.seen, id)
		}
	}
	s.lastPrune = now
}
