package store

import (
	"encoding/json"
	"time"
)

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
	ID      string
	Name    string
	Tier    Tier
	IsAdmin bool
	// RequestsPerMinute and AnalysesPerHour are the account's own limits, which apply instead of
	// its tier's: nil when it has none, Unlimited when it is not limited at all, otherwise 1 to
	// MaxOwnLimit.
	RequestsPerMinute *int
	AnalysesPerHour   *int
	CreatedAt         time.Time
	UpdatedAt         time.Time
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

// Workflow is a GHL workflow stored in a location. Its id starts with "wfl_"; GHLWorkflowID is the
// workflow's own id in GHL (the normalized analyzer.Workflow.ID), unique within the location. A
// re-import replaces everything but ID, CreatedAt and LastAnalysis.
type Workflow struct {
	ID            string
	LocationID    string
	GHLWorkflowID string
	Name          string
	Status        string
	// Dialect is the input dialect the workflow was read from, as the importer names it.
	Dialect    string
	GHLVersion int
	// Steps is the number of steps of the normalized workflow.
	Steps int
	// Normalized is the analyzer.Workflow as JSON; Raw is the workflow as imported (nil when the
	// import had none). Lists leave both nil.
	Normalized json.RawMessage
	Raw        json.RawMessage
	// LastAnalysis is the newest analysis that covered the workflow, with the workflow's own score,
	// grade and counts; nil before the first one.
	LastAnalysis *AnalysisSummary
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ImportedWorkflow is one workflow of an import, as ImportWorkflows needs it. Normalized must be
// JSON; Raw must be JSON or nil.
type ImportedWorkflow struct {
	GHLWorkflowID string
	Name          string
	Status        string
	Dialect       string
	GHLVersion    int
	Steps         int
	Normalized    json.RawMessage
	Raw           json.RawMessage
}

// ImportOutcome is what ImportWorkflows wrote: the workflows in the order of the import, and for
// each whether it was created (true) or replaced an existing one (false).
type ImportOutcome struct {
	Workflows []Workflow
	Created   []bool
}

// Analysis scopes, as stored.
const (
	// ScopeLocation analyses every stored workflow of a location.
	ScopeLocation = "location"
	// ScopeWorkflow analyses a whole location and keeps the result of one of its workflows.
	ScopeWorkflow = "workflow"
	// ScopeDocument analyses a posted document that is not stored as workflows.
	ScopeDocument = "document"
)

// AnalysisSummary is an analysis without its report. Its id starts with "ana_". LocationID is "" for
// a document analysed without a location; WorkflowID is the analysed workflow's id for the workflow
// scope and "" otherwise. MaxSeverity is the rank of the most serious finding: 0 none, 1 info,
// 2 warning, 3 error.
type AnalysisSummary struct {
	ID              string
	LocationID      string
	Scope           string
	WorkflowID      string
	ContentHash     string
	AnalyzerVersion string
	Grade           string
	Score           int
	Errors          int
	Warnings        int
	Infos           int
	MaxSeverity     int
	CreatedAt       time.Time
	// Stale is whether GHL has moved past what the analysis read. The store's reads of analyses
	// leave it false: it changes with every sync, and StaleAnalyses computes it for a page.
	Stale bool
}

// Analysis is a stored analysis with its full report (analyzer.Report as JSON, byte for byte as
// written).
type Analysis struct {
	AnalysisSummary
	Report json.RawMessage
}

// NewAnalysis is what CreateAnalysis stores. The key (LocationID, Scope, WorkflowID, ContentHash,
// AnalyzerVersion) is unique per account. Findings are the report's findings, in its order;
// PerWorkflow holds one result per stored workflow that the analysis covered.
type NewAnalysis struct {
	LocationID      string
	Scope           string
	WorkflowID      string
	ContentHash     string
	AnalyzerVersion string
	Grade           string
	Score           int
	Errors          int
	Warnings        int
	Infos           int
	MaxSeverity     int
	Report          json.RawMessage
	Findings        []FindingRow
	PerWorkflow     []WorkflowResult
}

// FindingRow is the part of a finding that history filters on. WorkflowID is the GHL workflow id the
// finding is about ("" for the location as a whole); StepID is "" when the finding is about no step.
type FindingRow struct {
	RuleID     string
	Severity   string
	WorkflowID string
	StepID     string
}

// WorkflowResult is one stored workflow's result within an analysis. WorkflowID is the workflow's id
// ("wfl_..."): it is kept as text, so the result stays in the history after the workflow is deleted.
type WorkflowResult struct {
	WorkflowID string
	Score      int
	Grade      string
	Errors     int
	Warnings   int
	Infos      int
	// GHLVersion is the workflow's version that the analysis read (its imported version), so that
	// a sync that sees a newer one in GHL marks the analysis stale; nil when unknown.
	GHLVersion *int
}

// HistoryFilter narrows ListAnalyses. Every field set must match: WorkflowID keeps the analyses that
// covered that workflow, RuleID those with at least one finding of that rule, MinSeverity (0..3)
// those whose MaxSeverity is at least that, Since and Until those created at or after Since and
// before Until.
type HistoryFilter struct {
	WorkflowID  string
	RuleID      string
	MinSeverity int
	Since       *time.Time
	Until       *time.Time
}
