package ghl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The OAuth state.
//
// The state of an authorization URL is base64url(claims) "." base64url(HMAC-SHA256(claims)): the
// claims name the key that signed them, a random nonce, the account, the location and the expiry.
// The signature makes a state that the service did not issue, or one whose account or location was
// changed, fail before anything is looked up; the expiry bounds how long a leaked URL is useful;
// and the nonce, recorded in the database when the state is issued and consumed there by one
// atomic statement when the callback arrives, makes every state usable once, across instances.

// Errors of the state, wrapped with the operation. The callback answers each with a 400 that says
// which, since none of them reveals anything the caller does not know.
var (
	// ErrStateInvalid means the state was not issued by this service or was changed.
	ErrStateInvalid = errors.New("the OAuth state was not issued by this service or was changed")
	// ErrStateExpired means the state's time ran out before the callback.
	ErrStateExpired = errors.New("the OAuth state has expired")
	// ErrStateUsed means the state was already used: a replayed callback.
	ErrStateUsed = errors.New("the OAuth state has already been used")
)

// StateClaims are what a state says.
type StateClaims struct {
	// Nonce is random and unique per state; the database records it to make the state single-use.
	Nonce      string
	AccountID  string
	LocationID string
	ExpiresAt  time.Time
}

// stateWire is the claims as signed: short names, since the state travels in a URL.
type stateWire struct {
	Key        string `json:"k"`
	Nonce      string `json:"n"`
	AccountID  string `json:"a"`
	LocationID string `json:"l"`
	Expires    int64  `json:"e"`
}

// NewStateClaims returns the claims of a new state for the account's location, valid for StateTTL
// from now, with a random nonce.
func NewStateClaims(accountID, locationID string, now time.Time) StateClaims {
	return StateClaims{
		Nonce:      strings.ToLower(rand.Text()),
		AccountID:  accountID,
		LocationID: locationID,
		ExpiresAt:  now.Add(StateTTL).UTC().Truncate(time.Second),
	}
}

// SignState returns the state carrying c, signed with the current key.
func (r *KeyRing) SignState(c StateClaims) string {
	payload, _ := json.Marshal(stateWire{Key: r.current, Nonce: c.Nonce, AccountID: c.AccountID,
		LocationID: c.LocationID, Expires: c.ExpiresAt.Unix()}) // a struct of strings and an int always encodes
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(r.mac(r.current, p))
}

// mac is the state's signature of payload under key id's state key.
func (r *KeyRing) mac(id, payload string) []byte {
	m := hmac.New(sha256.New, r.stateKeys[id])
	m.Write([]byte("ghl-oauth-state." + payload))
	return m.Sum(nil)
}

// VerifyState checks the state's signature, with whichever of the ring's keys signed it, and its
// expiry at now, and returns its claims. It returns ErrStateInvalid or ErrStateExpired. It does not
// consume the state: the store does (see Service.CompleteOAuth).
func (r *KeyRing) VerifyState(state string, now time.Time) (StateClaims, error) {
	p, sig, ok := strings.Cut(state, ".")
	if !ok {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateInvalid)
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	gotMAC, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateInvalid)
	}
	var w stateWire
	if err := json.Unmarshal(payload, &w); err != nil {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateInvalid)
	}
	if _, known := r.stateKeys[w.Key]; !known || !hmac.Equal(gotMAC, r.mac(w.Key, p)) {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateInvalid)
	}
	c := StateClaims{Nonce: w.Nonce, AccountID: w.AccountID, LocationID: w.LocationID, ExpiresAt: time.Unix(w.Expires, 0).UTC()}
	if c.Nonce == "" || c.AccountID == "" || c.LocationID == "" {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateInvalid)
	}
	if !now.Before(c.ExpiresAt) {
		return StateClaims{}, fmt.Errorf("verify OAuth state: %w", ErrStateExpired)
	}
	return c, nil
}

// AuthorizationURL returns GHL's choose-location URL for the app, carrying state: response_type
// code, the app's client id and redirect URL, and the scopes separated by spaces, as GHL's OAuth
// documentation gives it.
func (c Config) AuthorizationURL(state string) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", c.ClientID)
	q.Set("redirect_uri", c.RedirectURL)
	q.Set("scope", strings.Join(c.scopes(), " "))
	q.Set("state", state)
	return c.authURL() + "/oauth/chooselocation?" + q.Encode()
}
