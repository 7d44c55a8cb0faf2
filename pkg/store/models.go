package store

import "time"

// Tier is an account's plan; it sets the account's rate limits.
type Tier string

// The tiers, as stored.
const (
	TierFree       Tier = "free"
	TierPro        Tier = "pro"
	TierEnterprise Tier = "enterprise"
)

// Valid reports whether t is one of the known tiers.
func (t Tier) Valid() bool {
	switch t {
	case TierFree, TierPro, TierEnterprise:
		return true
	default:
		return false
	}
}

// Account is an agency using ghl-debugger. Its id starts with "acc_".
type Account struct {
	ID        string
	Name      string
	Tier      Tier
	IsAdmin   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey is an account's key, without its secret: the store keeps only the secret's hash. Its id
// starts with "key_". LastUsedAt is nil until the key is first used; RevokedAt is nil while it is live.
type APIKey struct {
	ID         string
	AccountID  string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Location is a GHL sub-account that an account has added. Its id starts with "loc_"; GHLLocationID
// is GHL's own id, unique within the account. Timezone is an IANA name, or "" when unknown.
type Location struct {
	ID            string
	AccountID     string
	GHLLocationID string
	Name          string
	Timezone      string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NewLocation is what CreateLocation needs.
type NewLocation struct {
	GHLLocationID string
	Name          string
	Timezone      string
}

// Page selects one page of a list. Cursor is "" for the first page and otherwise the cursor that the
// previous page returned. Limit is 1..MaxPageLimit; 0 means DefaultPageLimit.
type Page struct {
	Cursor string
	Limit  int
}

// Page sizes.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)
