// Package apikey makes and checks ghl-debugger API keys.
//
// A key is "ghd_" followed by 40 base62 characters drawn from crypto/rand (about 238 bits). The
// fixed prefix lets secret scanners recognise a leaked key. The service shows a key once, when it
// is made, and stores only its SHA-256 hash: a key has far too much entropy to be guessed, so a
// fast unsalted hash is enough and lets the store find a key by an indexed lookup of its hash.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	// Prefix starts every key.
	Prefix = "ghd_"
	// SecretLength is the number of random base62 characters after Prefix.
	SecretLength = 40
	// Length is the length of a whole key.
	Length = len(Prefix) + SecretLength
	// DisplayLength is the length of the part of a key that may be shown and stored in clear
	// (Prefix and 8 random characters): enough to recognise a key in a list, far too little to use it.
	DisplayLength = len(Prefix) + 8
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ErrMalformed is returned by Parse for a string that cannot be a key.
var ErrMalformed = errors.New("malformed API key")

// Key is a newly made key: the secret, shown once, and what may be stored.
type Key struct {
	// Secret is the whole key. It is given to the caller once and never stored or logged.
	Secret string
	// Hash is the hex SHA-256 of Secret; the store keeps it to authenticate later requests.
	Hash string
	// Display is the start of Secret that identifies the key in lists.
	Display string
}

// New makes a key with randomness from crypto/rand.
func New() (Key, error) {
	return newFrom(rand.Reader)
}

// newFrom makes a key with randomness from r. Bytes are drawn by rejection sampling (values of 248
// and above are discarded) so every base62 character is equally likely.
func newFrom(r io.Reader) (Key, error) {
	secret := make([]byte, 0, Length)
	secret = append(secret, Prefix...)
	buf := make([]byte, SecretLength+SecretLength/2)
	for len(secret) < Length {
		if _, err := io.ReadFull(r, buf); err != nil {
			return Key{}, fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if b >= 248 { // 248 = 4 * 62: larger values would favour the first characters
				continue
			}
			secret = append(secret, alphabet[b%62])
			if len(secret) == Length {
				break
			}
		}
	}
	s := string(secret)
	return Key{Secret: s, Hash: Hash(s), Display: s[:DisplayLength]}, nil
}

// Parse checks that s has the shape of a key (prefix, length, alphabet) and returns it unchanged.
// It lets the caller reject garbage without a database lookup; it says nothing about whether the
// key exists.
func Parse(s string) (string, error) {
	if len(s) != Length || !strings.HasPrefix(s, Prefix) {
		return "", ErrMalformed
	}
	for i := len(Prefix); i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return "", ErrMalformed
		}
	}
	return s, nil
}

// Hash returns the hex SHA-256 of key, the form in which keys are stored and looked up.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Verify reports whether key hashes to hash. It compares in constant time, so the time it takes
// tells nothing about how much of the hash matched.
func Verify(key, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(Hash(key)), []byte(hash)) == 1
}
