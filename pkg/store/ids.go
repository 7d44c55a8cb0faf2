package store

import (
	"crypto/rand"
	"strings"
)

// Id prefixes, one per table, so that an id says what it names.
const (
	accountPrefix  = "acc_"
	apiKeyPrefix   = "key_"
	locationPrefix = "loc_"
)

// idRandLen is the number of random base32 characters after the prefix: 100 bits, enough that ids
// never collide and cannot be guessed.
const idRandLen = 20

// newID returns prefix followed by idRandLen random lower-case base32 characters.
func newID(prefix string) string {
	// rand.Text returns 26 characters of the RFC 4648 base32 alphabet, each uniformly random.
	return prefix + strings.ToLower(rand.Text()[:idRandLen])
}

// validID reports whether id has the shape that newID(prefix) gives.
func validID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || len(rest) != idRandLen {
		return false
	}
	for _, c := range []byte(rest) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
