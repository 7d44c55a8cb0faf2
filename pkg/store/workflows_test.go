package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

var workflowIDPattern = regexp.MustCompile(`^wfl_[a-z2-7]{20}$`)

// missingWorkflowID is a well-formed workflow id that no row has.
const missingWorkflowID = "wfl_aaaaaaaaaaaaaaaaaaaa"

func TestImportWorkflows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		first := clock.now()

		a, b := importedWorkflow("wf-a", "Welcome", "published"), importedWorkflow("wf-b", "Reminder", "draft")
		out, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{a, b}, nil)
		require.NoError(t, err)
		require.Equal(t, []bool{true, true}, out.Created)
		require.Len(t, out.Workflows, 2)
		for i, in := range []store.ImportedWorkflow{a, b} {
			w := out.Workflows[i]
			require.Regexp(t, workflowIDPattern, w.ID)
			require.Equal(t, store.Workflow{
				ID: w.ID, LocationID: loc.ID, GHLWorkflowID: in.GHLWorkflowID, Name: in.Name, Status: in.Status,
				Dialect: in.Dialect, GHLVersion: in.GHLVersion, Steps: in.Steps, Normalized: in.Normalized, Raw: in.Raw,
				CreatedAt: first, UpdatedAt: first,
			}, w)
			require.Equal(t, w, mustGetWorkflow(t, db, acc.ID, loc.ID, w.ID), "the documents read back byte for byte")
		}
		wa, wb := out.Workflows[0], out.Workflows[1]

		// An analysis between the imports: the re-import must keep it attached.
		clock.advance(time.Second)
		an := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb))

		clock.advance(time.Second)
		a2 := a
		a2.Name, a2.Status, a2.GHLVersion, a2.Steps = "Welcome v2", "draft", 2, 7
		a2.Normalized = json.RawMessage(`{"id":"wf-a","name":"Welcome v2","steps":[1,2,3,4,5,6,7]}`)
		a2.Raw = nil
		c := importedWorkflow("wf-c", "Nurture", "published")
		out2, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{c, a2}, nil)
		require.NoError(t, err)
		require.Equal(t, []bool{true, false}, out2.Created, "in the order of the import")
		wc, wa2 := out2.Workflows[0], out2.Workflows[1]
		require.NotEqual(t, wa.ID, wc.ID)
		require.Equal(t, store.Workflow{
			ID: wa.ID, LocationID: loc.ID, GHLWorkflowID: "wf-a", Name: "Welcome v2", Status: "draft",
			Dialect: a.Dialect, GHLVersion: 2, Steps: 7, Normalized: a2.Normalized,
			LastAnalysis: lastAnalysis(an, 0), CreatedAt: first, UpdatedAt: clock.now(),
		}, wa2, "the id, creation time and last analysis are kept")
		require.Equal(t, wa2, mustGetWorkflow(t, db, acc.ID, loc.ID, wa.ID))
		require.Nil(t, wc.LastAnalysis)

		gotB := mustGetWorkflow(t, db, acc.ID, loc.ID, wb.ID)
		wb.LastAnalysis = lastAnalysis(an, 1)
		require.Equal(t, wb, gotB, "a workflow missing from an import is left alone")

		history, _, err := db.ListAnalyses(ctx, acc.ID, loc.ID, store.HistoryFilter{WorkflowID: wa.ID}, store.Page{})
		require.NoError(t, err)
		require.Equal(t, []store.AnalysisSummary{an.AnalysisSummary}, history, "the history survives the re-import")

		// An empty import writes nothing and fails nothing.
		out3, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, nil, nil)
		require.NoError(t, err)
		require.Empty(t, out3.Workflows)
		require.Len(t, mustListWorkflows(t, db, acc.ID, loc.ID, ""), 3)
	})
}

// TestImportWorkflowsAtomic checks that a failing import writes nothing: not its valid workflows,
// not its context, in no batch.
func TestImportWorkflowsAtomic(t *testing.T) {
	valid := func(n int) []store.ImportedWorkflow {
		wfs := make([]store.ImportedWorkflow, n)
		for i := range wfs {
			wfs[i] = importedWorkflow(fmt.Sprintf("new-%03d", i), "New", "draft")
		}
		return wfs
	}
	tests := []struct {
		name    string
		wfs     []store.ImportedWorkflow
		context json.RawMessage
		other   bool // import into the location as another account
		want    error
	}{
		{
			name: "duplicate GHL id",
			wfs:  append(valid(3), importedWorkflow("new-001", "Again", "draft")),
			want: store.ErrInvalid,
		},
		{
			name: "duplicate of a stored workflow's GHL id",
			wfs:  []store.ImportedWorkflow{importedWorkflow("old", "Replaced", "draft"), importedWorkflow("old", "Twice", "draft")},
			want: store.ErrInvalid,
		},
		{
			name: "name too long after valid rows",
			wfs:  append(valid(5), withName(importedWorkflow("zz-long", "", "draft"), strings.Repeat("n", 501))),
			want: store.ErrInvalid,
		},
		{
			name: "invalid row in a later batch",
			wfs:  append(valid(150), withStatus(importedWorkflow("zz-status", "No status", "draft"), "")),
			want: store.ErrInvalid,
		},
		{
			name: "replacing a stored workflow with an invalid row",
			wfs:  append(valid(2), withName(importedWorkflow("old", "", "draft"), strings.Repeat("n", 501))),
			want: store.ErrInvalid,
		},
		{
			name: "negative version",
			wfs:  append(valid(2), withVersion(importedWorkflow("zz-version", "v", "draft"), -1)),
			want: store.ErrInvalid,
		},
		{
			name: "empty GHL id",
			wfs:  append(valid(2), importedWorkflow("", "No id", "draft")),
			want: store.ErrInvalid,
		},
		{
			name: "normalized document not JSON",
			wfs:  append(valid(2), withNormalized(importedWorkflow("zz-json", "j", "draft"), `{"id":`)),
			want: store.ErrInvalid,
		},
		{
			name: "missing normalized document",
			wfs:  append(valid(2), withNormalized(importedWorkflow("zz-nil", "j", "draft"), "")),
			want: store.ErrInvalid,
		},
		{
			name:    "context not an object",
			wfs:     valid(2),
			context: json.RawMessage(`["tags"]`),
			want:    store.ErrInvalid,
		},
		{
			name:    "context not JSON",
			wfs:     valid(2),
			context: json.RawMessage(`{"tags":`),
			want:    store.ErrInvalid,
		},
		{
			name:    "another account's location",
			wfs:     valid(2),
			context: json.RawMessage(`{"tags":["x"]}`),
			other:   true,
			want:    store.ErrNotFound,
		},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		storedContext := json.RawMessage(`{"tags":["vip"]}`)
		mustImport(t, db, acc.ID, loc.ID, storedContext, importedWorkflow("old", "Old", "published"))
		before := mustListWorkflows(t, db, acc.ID, loc.ID, "")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				accountID := acc.ID
				if tt.other {
					accountID = other.ID
				}
				locContext := tt.context
				if locContext == nil {
					locContext = json.RawMessage(`{"tags":["replaced"]}`)
				}
				_, err := db.ImportWorkflows(t.Context(), accountID, loc.ID, tt.wfs, locContext)
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, "import workflows: ")
				require.Equal(t, before, mustListWorkflows(t, db, acc.ID, loc.ID, ""), "nothing is written")
				got, err := db.GetContext(ctx, acc.ID, loc.ID)
				require.NoError(t, err)
				require.Equal(t, storedContext, got, "the context is not replaced")
			})
		}
		// The near miss: the same rows without the bad one import fine, in several batches.
		out, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, valid(150), nil)
		require.NoError(t, err)
		require.Len(t, out.Workflows, 150)
		require.Len(t, mustLocationWorkflows(t, db, acc.ID, loc.ID), 151)
	})
}

func TestListWorkflows(t *testing.T) {
	tests := []struct {
		name   string
		status string
		limit  int
	}{
		{name: "all", limit: 5},
		{name: "published", status: "published", limit: 3},
		{name: "draft", status: "draft", limit: 2},
		{name: "unknown status", status: "archived", limit: 2},
		{name: "default limit", limit: 0},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				loc := mustCreateLocation(t, db, acc.ID, fmt.Sprintf("g%d", i))
				otherLoc := mustCreateLocation(t, db, acc.ID, fmt.Sprintf("other%d", i))
				var all []store.Workflow
				for j := range 12 {
					status := "draft"
					if j%3 == 0 {
						status = "published"
					}
					// Several imports share a timestamp, so ids decide part of the order.
					if j%4 == 0 {
						clock.advance(time.Second)
					}
					out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow(fmt.Sprintf("wf-%02d", j), "W", status))
					all = append(all, withoutDocuments(out.Workflows[0]))
					mustImport(t, db, acc.ID, otherLoc.ID, nil, importedWorkflow(fmt.Sprintf("wf-%02d", j), "E", status))
				}
				sortNewestFirst(all)
				want := all
				if tt.status != "" {
					want = filterWorkflows(all, tt.status)
				}

				got := []store.Workflow{}
				p := store.Page{Limit: tt.limit}
				for pages := 0; ; pages++ {
					require.Less(t, pages, 20, "the walk does not end")
					page, next, err := db.ListWorkflows(ctx, acc.ID, loc.ID, tt.status, p)
					require.NoError(t, err)
					require.NotNil(t, page)
					if tt.limit > 0 {
						require.LessOrEqual(t, len(page), tt.limit)
					}
					got = append(got, page...)
					if next == "" {
						break
					}
					p.Cursor = next
					// A workflow imported between pages is newer than the cursor: it shows on no page.
					clock.advance(time.Second)
					mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow(fmt.Sprintf("late-%d", pages), "L", "published"))
				}
				require.Equal(t, want, got)
			})
		}

		loc := mustCreateLocation(t, db, acc.ID, "errors")
		_, _, err := db.ListWorkflows(ctx, acc.ID, loc.ID, "", store.Page{Limit: store.MaxPageLimit + 1})
		require.ErrorIs(t, err, store.ErrInvalid)
		_, _, err = db.ListWorkflows(ctx, acc.ID, loc.ID, "", store.Page{Cursor: "bm90IGEgY3Vyc29y"})
		require.ErrorIs(t, err, store.ErrInvalidCursor)
		_, locCursor, err := db.ListLocations(ctx, acc.ID, store.Page{Limit: 1})
		require.NoError(t, err)
		_, _, err = db.ListWorkflows(ctx, acc.ID, loc.ID, "", store.Page{Cursor: locCursor})
		require.ErrorIs(t, err, store.ErrInvalidCursor, "a cursor of another list")
		_, _, err = db.ListWorkflows(ctx, acc.ID, missingLocationID, "", store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestGetDeleteWorkflow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		loc2 := mustCreateLocation(t, db, acc.ID, "g2")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		wa, wb := out.Workflows[0], out.Workflows[1]

		_, err := db.GetWorkflow(ctx, acc.ID, loc2.ID, wa.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "a workflow of another location")
		require.ErrorIs(t, db.DeleteWorkflow(ctx, acc.ID, loc2.ID, wa.ID), store.ErrNotFound)
		_, err = db.GetWorkflow(ctx, acc.ID, loc.ID, missingWorkflowID)
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, db.DeleteWorkflow(ctx, acc.ID, loc.ID, wa.ID))
		_, err = db.GetWorkflow(ctx, acc.ID, loc.ID, wa.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.DeleteWorkflow(ctx, acc.ID, loc.ID, wa.ID), store.ErrNotFound)
		require.Equal(t, wb, mustGetWorkflow(t, db, acc.ID, loc.ID, wb.ID), "the other workflow stays")

		// Importing the deleted GHL workflow again creates a new workflow.
		again := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"))
		require.Equal(t, []bool{true}, again.Created)
		require.NotEqual(t, wa.ID, again.Workflows[0].ID)
	})
}

// TestLocationWorkflows checks the input of a location analysis: every workflow, with its normalized
// document, ordered by GHL id byte by byte on both engines.
func TestLocationWorkflows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		empty := mustCreateLocation(t, db, acc.ID, "g2")
		// Upper case, lower case, digits, punctuation and non-ASCII: a locale would order these
		// differently from bytes.
		ids := []string{"b-2", "B-1", "a", "_x", "Z", "é", "10", "9", "a b"}
		wfs := make([]store.ImportedWorkflow, len(ids))
		for i, id := range ids {
			wfs[i] = importedWorkflow(id, "W "+id, "published")
		}
		mustImport(t, db, acc.ID, loc.ID, nil, wfs...)

		got := mustLocationWorkflows(t, db, acc.ID, loc.ID)
		want := slices.Clone(ids)
		slices.Sort(want)
		gotIDs := make([]string, 0, len(got))
		for _, w := range got {
			gotIDs = append(gotIDs, w.GHLWorkflowID)
			in := wfs[slices.Index(ids, w.GHLWorkflowID)]
			require.Equal(t, in.Normalized, w.Normalized)
			require.Nil(t, w.Raw, "the raw document is not read for an analysis")
		}
		require.Equal(t, want, gotIDs)

		none, err := db.LocationWorkflows(t.Context(), acc.ID, empty.ID)
		require.NoError(t, err)
		require.NotNil(t, none)
		require.Empty(t, none)
	})
}

func TestContext(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		loc2 := mustCreateLocation(t, db, acc.ID, "g2")
		get := func(t *testing.T, locationID string) json.RawMessage {
			t.Helper()
			c, err := db.GetContext(ctx, acc.ID, locationID)
			require.NoError(t, err)
			return c
		}

		require.Nil(t, get(t, loc.ID), "unknown until set")

		// Spacing and key order are kept byte for byte.
		c1 := json.RawMessage(`{"tags": ["vip",  "lead"], "customFields": [], "a": 1}`)
		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, c1))
		require.Equal(t, c1, get(t, loc.ID))
		require.Nil(t, get(t, loc2.ID), "another location's context is its own")

		mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"))
		require.Equal(t, c1, get(t, loc.ID), "an import without context leaves it")

		c2 := json.RawMessage(`{"tags":["replaced"]}`)
		mustImport(t, db, acc.ID, loc.ID, c2, importedWorkflow("wf-b", "B", "published"))
		require.Equal(t, c2, get(t, loc.ID), "an import with context replaces it")

		c3 := json.RawMessage(`{}`)
		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, c3))
		require.Equal(t, c3, get(t, loc.ID), "an empty context is known, not unknown")

		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, json.RawMessage(" null ")))
		require.Nil(t, get(t, loc.ID), "null clears it")
		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, c1))
		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, nil))
		require.Nil(t, get(t, loc.ID), "nil clears it")
		require.NoError(t, db.PutContext(ctx, acc.ID, loc.ID, nil), "clearing an unknown context is fine")

		for _, bad := range []string{`[]`, `"tags"`, `42`, `{"tags":`, ``} {
			err := db.PutContext(ctx, acc.ID, loc.ID, json.RawMessage(bad))
			require.ErrorIs(t, err, store.ErrInvalid, "%q", bad)
		}
		require.Nil(t, get(t, loc.ID))

		_, err := db.GetContext(ctx, acc.ID, missingLocationID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.PutContext(ctx, acc.ID, missingLocationID, c1), store.ErrNotFound)
	})
}

// TestWorkflowsOtherAccount checks that every workflow and context method treats another account's
// location and workflows as missing, and changes nothing of theirs.
func TestWorkflowsOtherAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		intruder := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		mustCreateLocation(t, db, intruder.ID, "g1")
		c := json.RawMessage(`{"tags":["vip"]}`)
		out := mustImport(t, db, acc.ID, loc.ID, c, importedWorkflow("wf-a", "A", "published"))
		w := out.Workflows[0]

		_, err := db.ImportWorkflows(ctx, intruder.ID, loc.ID, []store.ImportedWorkflow{importedWorkflow("wf-a", "Hijack", "draft")}, nil)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = db.ListWorkflows(ctx, intruder.ID, loc.ID, "", store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.GetWorkflow(ctx, intruder.ID, loc.ID, w.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.DeleteWorkflow(ctx, intruder.ID, loc.ID, w.ID), store.ErrNotFound)
		_, err = db.LocationWorkflows(ctx, intruder.ID, loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.GetContext(ctx, intruder.ID, loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, db.PutContext(ctx, intruder.ID, loc.ID, json.RawMessage(`{}`)), store.ErrNotFound)
		require.ErrorIs(t, db.PutContext(ctx, intruder.ID, loc.ID, nil), store.ErrNotFound)

		require.Equal(t, w, mustGetWorkflow(t, db, acc.ID, loc.ID, w.ID))
		got, err := db.GetContext(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
	})
}

// TestWorkflowsInTx checks that the methods join the caller's transaction on Tx: its rollback undoes
// them, and on SQLite (one connection) they do not wait for a connection of their own.
func TestWorkflowsInTx(t *testing.T) {
	errAbort := errors.New("abort")
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		c := json.RawMessage(`{"tags":[]}`)

		err := db.InTx(ctx, func(tx *store.Tx) error {
			out, err := tx.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{importedWorkflow("wf-a", "A", "draft")}, c)
			require.NoError(t, err)
			got, err := tx.GetWorkflow(ctx, acc.ID, loc.ID, out.Workflows[0].ID)
			require.NoError(t, err)
			require.Equal(t, "A", got.Name)
			_, err = tx.CreateAnalysis(ctx, acc.ID, locationAnalysis(loc.ID, out.Workflows[0]))
			require.NoError(t, err)
			return errAbort
		})
		require.ErrorIs(t, err, errAbort)
		require.Empty(t, mustListWorkflows(t, db, acc.ID, loc.ID, ""))
		got, err := db.GetContext(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Nil(t, got)
		history, _, err := db.ListAnalyses(ctx, acc.ID, loc.ID, store.HistoryFilter{}, store.Page{})
		require.NoError(t, err)
		require.Empty(t, history)

		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			out, err := tx.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{importedWorkflow("wf-a", "A", "draft")}, c)
			if err != nil {
				return err
			}
			if _, err := tx.CreateAnalysis(ctx, acc.ID, locationAnalysis(loc.ID, out.Workflows[0])); err != nil {
				return err
			}
			return tx.PutContext(ctx, acc.ID, loc.ID, nil)
		}))
		wfs := mustListWorkflows(t, db, acc.ID, loc.ID, "")
		require.Len(t, wfs, 1)
		require.NotNil(t, wfs[0].LastAnalysis)
		got, err = db.GetContext(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Nil(t, got)
	})
}

// importedWorkflow returns a workflow as an import hands it to the store. The raw document has
// irregular spacing, which must survive storage.
func importedWorkflow(ghlID, name, status string) store.ImportedWorkflow {
	id, _ := json.Marshal(ghlID)
	return store.ImportedWorkflow{
		GHLWorkflowID: ghlID,
		Name:          name,
		Status:        status,
		Dialect:       "ghl-builder",
		GHLVersion:    3,
		Steps:         2,
		Normalized:    json.RawMessage(fmt.Sprintf(`{"id":%s,"status":%q,"steps":[{"id":"s1"},{"id":"s2"}]}`, id, status)),
		Raw:           json.RawMessage(fmt.Sprintf(`{"workflow": {"id": %s,  "templates": []}}`, id)),
	}
}

func withName(w store.ImportedWorkflow, name string) store.ImportedWorkflow {
	w.Name = name
	return w
}

func withStatus(w store.ImportedWorkflow, status string) store.ImportedWorkflow {
	w.Status = status
	return w
}

func withVersion(w store.ImportedWorkflow, version int) store.ImportedWorkflow {
	w.GHLVersion = version
	return w
}

func withNormalized(w store.ImportedWorkflow, doc string) store.ImportedWorkflow {
	w.Normalized = nil
	if doc != "" {
		w.Normalized = json.RawMessage(doc)
	}
	return w
}

// withoutDocuments returns w as lists return it.
func withoutDocuments(w store.Workflow) store.Workflow {
	w.Normalized, w.Raw = nil, nil
	return w
}

func filterWorkflows(wfs []store.Workflow, status string) []store.Workflow {
	out := []store.Workflow{}
	for _, w := range wfs {
		if w.Status == status {
			out = append(out, w)
		}
	}
	return out
}

// sortNewestFirst orders workflows as the list does.
func sortNewestFirst(wfs []store.Workflow) {
	slices.SortFunc(wfs, func(a, b store.Workflow) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

func mustImport(tb testing.TB, db *store.DB, accountID, locationID string, locContext json.RawMessage, wfs ...store.ImportedWorkflow) store.ImportOutcome {
	tb.Helper()
	out, err := db.ImportWorkflows(tb.Context(), accountID, locationID, wfs, locContext)
	require.NoError(tb, err)
	require.Len(tb, out.Workflows, len(wfs))
	return out
}

func mustGetWorkflow(tb testing.TB, db *store.DB, accountID, locationID, id string) store.Workflow {
	tb.Helper()
	w, err := db.GetWorkflow(tb.Context(), accountID, locationID, id)
	require.NoError(tb, err)
	return w
}

// mustListWorkflows returns every workflow of the location, walking all pages.
func mustListWorkflows(tb testing.TB, db *store.DB, accountID, locationID, status string) []store.Workflow {
	tb.Helper()
	all := []store.Workflow{}
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		page, next, err := db.ListWorkflows(tb.Context(), accountID, locationID, status, p)
		require.NoError(tb, err)
		all = append(all, page...)
		if next == "" {
			return all
		}
		p.Cursor = next
	}
}

func mustLocationWorkflows(tb testing.TB, db *store.DB, accountID, locationID string) []store.Workflow {
	tb.Helper()
	wfs, err := db.LocationWorkflows(tb.Context(), accountID, locationID)
	require.NoError(tb, err)
	return wfs
}
