package ghl

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Token encryption at rest.
//
// A key ring holds the current key, which encrypts, and older keys, which only decrypt, each with
// an id. A ciphertext is the text "ghlenc1:<key id>:<base64url(nonce || sealed)>" so that it says
// which key opens it: after a new key is put first in the ring, old rows still decrypt, and
// Reencrypt (the rotate-ghl-key command) moves them to the new key. The associated data binds each
// ciphertext to the row and field it was written for (the location and "access" or "refresh"), so
// a ciphertext copied to another row or field does not decrypt.

// ciphertextVersion starts every ciphertext, so that a later format can be told apart.
const ciphertextVersion = "ghlenc1"

// KeySize is the length of a key: AES-256.
const KeySize = 32

// keyIDPattern is what a key id may look like: short, and free of the separators of the formats.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Errors of the key ring, wrapped with the operation.
var (
	// ErrUnknownKey means a ciphertext names a key id the ring does not hold: the key was removed
	// before its rows were re-encrypted.
	ErrUnknownKey = errors.New("ghl: unknown token key")
	// ErrDecrypt means a ciphertext is malformed, was changed, or belongs to another row or field.
	ErrDecrypt = errors.New("ghl: token does not decrypt")
)

// KeyRing encrypts and decrypts tokens. It is safe for concurrent use.
type KeyRing struct {
	current string
	aeads   map[string]cipher.AEAD
	// stateKeys are the OAuth state's HMAC keys, derived from each encryption key (see
	// deriveStateKey), by key id.
	stateKeys map[string][]byte
	order     []string
}

// ParseKeyRing reads the GHLD_GHL_TOKEN_KEYS format: comma-separated ID:KEY pairs, the first one
// current, where ID is 1 to 32 of A-Z a-z 0-9 _ - and KEY is 32 random bytes in base64 (standard
// or URL alphabet, padded or not), such as "k2026b:…,k2026a:…". "" means no keys (nil, nil).
// Errors name the pair's position, never a key.
func ParseKeyRing(s string) (*KeyRing, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	r := &KeyRing{aeads: map[string]cipher.AEAD{}, stateKeys: map[string][]byte{}}
	for i, pair := range strings.Split(s, ",") {
		id, enc, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("%s: pair %d: want ID:BASE64KEY with an ID of 1 to 32 letters, digits, _ or -", EnvTokenKeys, i+1)
		}
		key, err := decodeKey(enc)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: %w", EnvTokenKeys, id, err)
		}
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("%s: key id %q appears twice", EnvTokenKeys, id)
		}
		if err := r.add(id, key); err != nil {
			return nil, fmt.Errorf("%s: key %q: %w", EnvTokenKeys, id, err)
		}
	}
	r.current = r.order[0]
	return r, nil
}

// NewKeyRing returns a ring of one key, current; tests and the key generator use it.
func NewKeyRing(id string, key []byte) (*KeyRing, error) {
	if !keyIDPattern.MatchString(id) {
		return nil, fmt.Errorf("ghl: key id %q: want 1 to 32 letters, digits, _ or -", id)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("ghl: key %q: want %d bytes, got %d", id, KeySize, len(key))
	}
	r := &KeyRing{aeads: map[string]cipher.AEAD{}, stateKeys: map[string][]byte{}}
	if err := r.add(id, key); err != nil {
		return nil, err
	}
	r.current = id
	return r, nil
}

// GenerateKey returns a new random key in the format of GHLD_GHL_TOKEN_KEYS ("ID:BASE64").
func GenerateKey(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("ghl: key id %q: want 1 to 32 letters, digits, _ or -", id)
	}
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails.
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// decodeKey reads a base64 key of KeySize bytes in any of the four base64 alphabets.
func decodeKey(enc string) ([]byte, error) {
	enc = strings.TrimSpace(enc)
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := e.DecodeString(enc); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("want %d bytes after base64 decoding, got %d", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("not base64")
}

// add puts key under id, last.
func (r *KeyRing) add(id string, key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	sk, err := deriveStateKey(key)
	if err != nil {
		return err
	}
	r.aeads[id], r.stateKeys[id] = aead, sk
	r.order = append(r.order, id)
	return nil
}

// deriveStateKey derives the OAuth state's HMAC key from an encryption key with HKDF-SHA256, so
// that one setting serves both and neither key can be computed from the other's output.
func deriveStateKey(key []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, key, nil, "ghl-debugger oauth state v1", 32)
}

// CurrentKeyID returns the id of the key that encrypts.
func (r *KeyRing) CurrentKeyID() string { return r.current }

// KeyIDs returns the ids of the ring's keys, current first.
func (r *KeyRing) KeyIDs() []string { return append([]string(nil), r.order...) }

// Encrypt seals plaintext under the current key, bound to aad (the row and field it is stored in).
func (r *KeyRing) Encrypt(plaintext Secret, aad string) string {
	aead := r.aeads[r.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext.value)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails.
	sealed := aead.Seal(nonce, nonce, []byte(plaintext.value), []byte(aad))
	return ciphertextVersion + ":" + r.current + ":" + base64.RawURLEncoding.EncodeToString(sealed)
}

// Decrypt opens a ciphertext written by Encrypt with the same aad. It returns ErrUnknownKey when
// the ring lacks the ciphertext's key and ErrDecrypt when it does not open.
func (r *KeyRing) Decrypt(ciphertext, aad string) (Secret, error) {
	id, aead, sealed, err := r.parse(ciphertext)
	if err != nil {
		return Secret{}, err
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return Secret{}, fmt.Errorf("decrypt token with key %q: %w", id, ErrDecrypt)
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return Secret{}, fmt.Errorf("decrypt token with key %q: %w", id, ErrDecrypt)
	}
	return Secret{value: string(plain)}, nil
}

// KeyIDOf returns the key id a ciphertext names, without decrypting it.
func KeyIDOf(ciphertext string) (string, error) {
	rest, ok := strings.CutPrefix(ciphertext, ciphertextVersion+":")
	if !ok {
		return "", fmt.Errorf("read token ciphertext: %w", ErrDecrypt)
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("read token ciphertext: %w", ErrDecrypt)
	}
	return id, nil
}

// parse splits a ciphertext into its key and sealed bytes.
func (r *KeyRing) parse(ciphertext string) (string, cipher.AEAD, []byte, error) {
	id, err := KeyIDOf(ciphertext)
	if err != nil {
		return "", nil, nil, err
	}
	aead, ok := r.aeads[id]
	if !ok {
		return "", nil, nil, fmt.Errorf("decrypt token: key %q: %w", id, ErrUnknownKey)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ciphertext[len(ciphertextVersion)+len(id)+2:])
	if err != nil {
		return "", nil, nil, fmt.Errorf("decrypt token with key %q: %w", id, ErrDecrypt)
	}
	return id, aead, sealed, nil
}

// Reencrypt opens a ciphertext and seals it again under the current key, with the same aad. A
// ciphertext already under the current key is returned as it is, with changed false.
func (r *KeyRing) Reencrypt(ciphertext, aad string) (out string, changed bool, err error) {
	id, err := KeyIDOf(ciphertext)
	if err != nil {
		return "", false, err
	}
	if id == r.current {
		return ciphertext, false, nil
	}
	plain, err := r.Decrypt(ciphertext, aad)
	if err != nil {
		return "", false, err
	}
	return r.Encrypt(plain, aad), true, nil
}
