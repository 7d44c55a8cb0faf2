package store_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

var simulationIDPattern = regexp.MustCompile(`^sim_[a-z2-7]{20}$`)

// missingSimulationID is a well-formed simulation id that no row has.
const missingSimulationID = "sim_aaaaaaaaaaaaaaaaaaaa"

// newSimulation is a simulation of locationID as the API stores one.
func newSimulation(locationID string) store.NewSimulation {
	start := time.Date(2026, 3, 2, 2, 40, 0, 0, time.UTC)
	return store.NewSimulation{
		LocationID: locationID, ContactID: "lead-42", Start: start, End: start.Add(30 * 24 * time.Hour),
		Messages: 4, Findings: 2, WorkflowsEntered: 3, MaxSeverity: 3,
		// Key order and spacing that a re-encoding would change.
		Request: json.RawMessage(`{"start": {"type": "form_submitted"},  "contact": {}}`),
		Result:  json.RawMessage(`{"trace": [], "messages": [1, 2]}`),
	}
}

func mustCreateSimulation(tb testing.TB, db *store.DB, accountID string, in store.NewSimulation) store.Simulation {
	tb.Helper()
	s, err := db.CreateSimulation(tb.Context(), accountID, in)
	require.NoError(tb, err)
	return s
}

func TestCreateAndGetSimulation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")

		in := newSimulation(loc.ID)
		s := mustCreateSimulation(t, db, acc.ID, in)
		require.Regexp(t, simulationIDPattern, s.ID)
		require.Equal(t, store.Simulation{
			SimulationSummary: store.SimulationSummary{
				ID: s.ID, LocationID: loc.ID, ContactID: "lead-42", Start: in.Start, End: in.End, Messages: 4,
				Findings: 2, WorkflowsEntered: 3, MaxSeverity: 3, CreatedAt: clock.now(),
			},
			Request: in.Request, Result: in.Result,
		}, s)

		got, err := db.GetSimulation(ctx, acc.ID, s.ID)
		require.NoError(t, err)
		require.Equal(t, s, got, "the request and result read back byte for byte")

		other := mustCreateAccount(t, db, "Other Agency")
		_, err = db.GetSimulation(ctx, other.ID, s.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "another account's simulation is not found")
		_, err = db.GetSimulation(ctx, acc.ID, missingSimulationID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.CreateSimulation(ctx, other.ID, in)
		require.ErrorIs(t, err, store.ErrNotFound, "another account's location is not found")
	})
}

func TestCreateSimulationInvalid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		for _, tt := range []struct {
			name   string
			change func(*store.NewSimulation)
		}{
			{name: "request not JSON", change: func(s *store.NewSimulation) { s.Request = json.RawMessage(`{`) }},
			{name: "result not JSON", change: func(s *store.NewSimulation) { s.Result = nil }},
			{name: "end before start", change: func(s *store.NewSimulation) { s.End = s.Start.Add(-time.Minute) }},
			{name: "negative count", change: func(s *store.NewSimulation) { s.Messages = -1 }},
			{name: "severity without findings", change: func(s *store.NewSimulation) { s.Findings = 0 }},
			{name: "findings without severity", change: func(s *store.NewSimulation) { s.MaxSeverity = 0 }},
			{name: "severity out of range", change: func(s *store.NewSimulation) { s.MaxSeverity = 4 }},
			{name: "contact id too long", change: func(s *store.NewSimulation) { s.ContactID = string(make([]byte, 201)) }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				in := newSimulation(loc.ID)
				tt.change(&in)
				_, err := db.CreateSimulation(t.Context(), acc.ID, in)
				require.ErrorIs(t, err, store.ErrInvalid)
			})
		}
		require.Equal(t, 0, mustCount(t, db, "simulations"))
	})
}

func TestListSimulations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		elsewhere := mustCreateLocation(t, db, acc.ID, "g2")

		empty, next, err := db.ListSimulations(ctx, acc.ID, loc.ID, store.Page{})
		require.NoError(t, err)
		require.Empty(t, empty)
		require.Empty(t, next)

		var ids []string
		for range 5 {
			ids = append(ids, mustCreateSimulation(t, db, acc.ID, newSimulation(loc.ID)).ID)
			clock.advance(time.Second)
		}
		mustCreateSimulation(t, db, acc.ID, newSimulation(elsewhere.ID))

		// Newest first, two at a time; a simulation added meanwhile does not shift the pages.
		var got []string
		page := store.Page{Limit: 2}
		for {
			items, next, err := db.ListSimulations(ctx, acc.ID, loc.ID, page)
			require.NoError(t, err)
			for _, s := range items {
				require.Equal(t, loc.ID, s.LocationID)
				got = append(got, s.ID)
			}
			if len(got) == 2 {
				mustCreateSimulation(t, db, acc.ID, newSimulation(loc.ID))
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
		require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, got)

		other := mustCreateAccount(t, db, "Other Agency")
		_, _, err = db.ListSimulations(ctx, other.ID, loc.ID, store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = db.ListSimulations(ctx, acc.ID, loc.ID, store.Page{Cursor: "bm90LWEtY3Vyc29y"})
		require.ErrorIs(t, err, store.ErrInvalidCursor)
		_, _, err = db.ListSimulations(ctx, acc.ID, loc.ID, store.Page{Limit: store.MaxPageLimit + 1})
		require.ErrorIs(t, err, store.ErrInvalid)

		// Deleting the location deletes its simulations.
		require.NoError(t, db.DeleteLocation(ctx, acc.ID, loc.ID))
		require.Equal(t, 1, mustCount(t, db, "simulations"))
	})
}
