package store

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// queryFamilies names the query family of each data method: the label of
// database_query_duration_seconds and the rows of /internal/db-stats. Every statement a method
// sends, through get, list or exec, is timed under its family, so an operator sees which operation
// is slow without reading query texts. A new data method needs a row here; the conformance suite
// fails until it has one.
var queryFamilies = map[string]string{
	"CreateAccount":       "accounts.create",
	"GetAccount":          "accounts.get",
	"CountAccounts":       "accounts.count",
	"CountAccountsByTier": "accounts.count_by_tier",
	"SetAccountTier":      "accounts.set_tier",

	"CreateAPIKey":       "api_keys.create",
	"AuthenticateAPIKey": "api_keys.authenticate",
	"ListAPIKeys":        "api_keys.list",
	"RevokeAPIKey":       "api_keys.revoke",

	"CreateLocation": "locations.create",
	"GetLocation":    "locations.get",
	"ListLocations":  "locations.list",
	"DeleteLocation": "locations.delete",

	"ImportWorkflows":   "workflows.import",
	"ListWorkflows":     "workflows.list",
	"GetWorkflow":       "workflows.get",
	"DeleteWorkflow":    "workflows.delete",
	"LocationWorkflows": "workflows.of_location",
	"GetContext":        "contexts.get",
	"PutContext":        "contexts.put",

	"CreateAnalysis": "analyses.create",
	"FindAnalysis":   "analyses.find",
	"GetAnalysis":    "analyses.get",
	"ListAnalyses":   "analyses.history",
}

// familyOther is the family of a statement sent by no method of the table (a test's own query).
const familyOther = "other"

// storePackage prefixes the names of the functions of this package, as the runtime reports them.
const storePackage = "github.com/ghl-debugger/ghl-debugger/pkg/store."

// observe records a statement that started at start and ended with err (already turned into the
// store's errors) under the family of the data method that sent it. A missing row, a conflict or an
// invalid value is an answer of the database, not a failure of it.
func observe(start time.Time, err error) {
	failed := err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrInvalid)
	metrics.ObserveQuery(callerFamily(), time.Since(start), failed)
}

// familyByPC caches, per program counter of a call stack, the family of the data method at that
// frame ("" for a frame that is not one), so each call site is resolved once.
var familyByPC sync.Map

// callerFamily finds the data method that sent the current statement: the innermost frame of the
// call stack that is an exported method of this package's queries, DB or Tx (its closures
// included, such as the function a method runs in a transaction). Walking the stack lets the three
// query helpers time every statement without each method passing its own name, and the table above
// keeps the names fixed. It costs about half a microsecond a statement, a few percent of the
// fastest SQLite lookup.
func callerFamily() string {
	var pcs [32]uintptr
	// Skip runtime.Callers, callerFamily, observe and the query helper.
	n := runtime.Callers(4, pcs[:])
	for _, pc := range pcs[:n] {
		if f, ok := familyByPC.Load(pc); ok {
			if f != "" {
				return f.(string)
			}
			continue
		}
		f := familyAt(pc)
		familyByPC.Store(pc, f)
		if f != "" {
			return f
		}
	}
	return familyOther
}

// familyAt returns the family of the data method at pc, with the frames inlined there expanded
// innermost first, or "" when there is none.
func familyAt(pc uintptr) string {
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		frame, more := frames.Next()
		if method, ok := dataMethod(frame.Function); ok {
			if f, ok := queryFamilies[method]; ok {
				return f
			}
			return familyOther
		}
		if !more {
			return ""
		}
	}
}

// dataMethod returns the method name of a function of this package that is an exported method of
// queries, DB or Tx, or of a closure inside one: "store.(*queries).CreateAnalysis.func1" is
// CreateAnalysis.
func dataMethod(function string) (string, bool) {
	rest, ok := strings.CutPrefix(function, storePackage)
	if !ok {
		return "", false
	}
	for _, recv := range []string{"(*queries).", "(*DB).", "(*Tx)."} {
		if name, ok := strings.CutPrefix(rest, recv); ok {
			name, _, _ = strings.Cut(name, ".")
			if name != "" && name[0] >= 'A' && name[0] <= 'Z' && name != "InTx" {
				return name, true
			}
			return "", false
		}
	}
	return "", false
}
