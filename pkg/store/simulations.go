package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// simulationPrefix starts every simulation id.
const simulationPrefix = "sim_"

// maxContactIDLength bounds a simulation's contact id, as the table does.
const maxContactIDLength = 200

// NewSimulation is a simulation to store: the request it ran and its result as the engine wrote
// them (JSON), and the summary the list shows.
type NewSimulation struct {
	LocationID string
	// ContactID is the request's contact id, "" when it had none.
	ContactID string
	// Start and End bound the virtual time simulated.
	Start, End       time.Time
	Messages         int
	Findings         int
	WorkflowsEntered int
	// MaxSeverity is the rank of the most serious finding: 0 without findings, else 1 (info), 2
	// (warning) or 3 (error).
	MaxSeverity int
	Request     json.RawMessage
	Result      json.RawMessage
}

// SimulationSummary is a stored simulation without its request and result, as the list shows it.
type SimulationSummary struct {
	ID               string
	LocationID       string
	ContactID        string
	Start, End       time.Time
	Messages         int
	Findings         int
	WorkflowsEntered int
	MaxSeverity      int
	CreatedAt        time.Time
}

// Simulation is a stored simulation with the request it ran and its result, byte for byte.
type Simulation struct {
	SimulationSummary
	Request json.RawMessage
	Result  json.RawMessage
}

// simulationRow is a simulations row as the drivers scan it; request and result are only selected
// by GetSimulation.
type simulationRow struct {
	ID               string    `db:"id"`
	LocationID       string    `db:"location_id"`
	ContactID        string    `db:"contact_id"`
	Start            time.Time `db:"start_at"`
	End              time.Time `db:"end_at"`
	Messages         int       `db:"messages"`
	Findings         int       `db:"findings"`
	WorkflowsEntered int       `db:"workflows_entered"`
	MaxSeverity      int       `db:"max_severity"`
	CreatedAt        time.Time `db:"created_at"`
	Request          []byte    `db:"request"`
	Result           []byte    `db:"result"`
}

// simulationColumns are the summary's columns.
const simulationColumns = `id, location_id, contact_id, start_at, end_at, messages, findings, workflows_entered,
	max_severity, created_at`

// simulation converts the row, normalizing times to UTC.
func (r simulationRow) simulation() Simulation {
	return Simulation{
		SimulationSummary: SimulationSummary{
			ID: r.ID, LocationID: r.LocationID, ContactID: r.ContactID, Start: r.Start.UTC(), End: r.End.UTC(),
			Messages: r.Messages, Findings: r.Findings, WorkflowsEntered: r.WorkflowsEntered,
			MaxSeverity: r.MaxSeverity, CreatedAt: r.CreatedAt.UTC(),
		},
		Request: json.RawMessage(r.Request),
		Result:  json.RawMessage(r.Result),
	}
}

// CreateSimulation stores a simulation in an account's location. It returns ErrNotFound when the
// account has no such location, and ErrInvalid when in breaks a rule: a request or result that is
// not JSON, a contact id longer than 200 characters, an end not after the start, negative counts,
// or a MaxSeverity outside 0..3 or not 0 exactly when there are no findings.
func (q *queries) CreateSimulation(ctx context.Context, accountID string, in NewSimulation) (Simulation, error) {
	if err := validateSimulation(in); err != nil {
		return Simulation{}, fmt.Errorf("create simulation: %w", err)
	}
	s := Simulation{
		SimulationSummary: SimulationSummary{
			ID: newID(simulationPrefix), LocationID: in.LocationID, ContactID: in.ContactID,
			Start: in.Start.UTC(), End: in.End.UTC(), Messages: in.Messages, Findings: in.Findings,
			WorkflowsEntered: in.WorkflowsEntered, MaxSeverity: in.MaxSeverity, CreatedAt: q.now(),
		},
		Request: in.Request,
		Result:  in.Result,
	}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.checkLocation(ctx, accountID, in.LocationID); err != nil {
			return err
		}
		const insert = `INSERT INTO simulations (id, account_id, location_id, contact_id, start_at, end_at, messages,
	findings, workflows_entered, max_severity, created_at, request, result)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		_, err := q.exec(ctx, famSimulationsCreate, insert, s.ID, accountID, s.LocationID, s.ContactID, s.Start, s.End,
			s.Messages, s.Findings, s.WorkflowsEntered, s.MaxSeverity, s.CreatedAt, jsonArg(s.Request), jsonArg(s.Result))
		return err
	})
	if err != nil {
		return Simulation{}, fmt.Errorf("create simulation: %w", err)
	}
	return s, nil
}

// validateSimulation checks what the schema checks too, with messages that say which rule broke.
func validateSimulation(in NewSimulation) error {
	switch {
	case !json.Valid(in.Request):
		return fmt.Errorf("%w: request is not JSON", ErrInvalid)
	case !json.Valid(in.Result):
		return fmt.Errorf("%w: result is not JSON", ErrInvalid)
	case len([]rune(in.ContactID)) > maxContactIDLength:
		return fmt.Errorf("%w: contact id longer than %d characters", ErrInvalid, maxContactIDLength)
	case !in.End.After(in.Start):
		return fmt.Errorf("%w: end %s is not after start %s", ErrInvalid, in.End, in.Start)
	case in.Messages < 0 || in.Findings < 0 || in.WorkflowsEntered < 0:
		return fmt.Errorf("%w: negative counts", ErrInvalid)
	case in.MaxSeverity < 0 || in.MaxSeverity > 3 || (in.MaxSeverity == 0) != (in.Findings == 0):
		return fmt.Errorf("%w: max severity %d does not fit %d findings", ErrInvalid, in.MaxSeverity, in.Findings)
	}
	return nil
}

// GetSimulation returns an account's simulation with its request and result. It returns
// ErrNotFound when the account has no such simulation, including when it belongs to another
// account.
func (q *queries) GetSimulation(ctx context.Context, accountID, simulationID string) (Simulation, error) {
	const query = `SELECT ` + simulationColumns + `, request, result FROM simulations WHERE id = ? AND account_id = ?`
	var r simulationRow
	if err := q.get(ctx, famSimulationsGet, &r, query, simulationID, accountID); err != nil {
		return Simulation{}, fmt.Errorf("get simulation: %w", err)
	}
	return r.simulation(), nil
}

// ListSimulations returns one page of a location's simulations, newest first, as summaries, and
// the cursor of the next page ("" after the last page). Pages are stable while simulations are
// added. It returns ErrNotFound when the account has no such location, ErrInvalidCursor for a
// cursor that ListSimulations did not return, and ErrInvalid for a limit out of range.
func (q *queries) ListSimulations(ctx context.Context, accountID, locationID string, p Page) ([]SimulationSummary, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", fmt.Errorf("list simulations: %w", err)
	}
	where := `location_id = ? AND account_id = ?`
	args := []any{locationID, accountID}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, simulationPrefix)
		if err != nil {
			return nil, "", fmt.Errorf("list simulations: %w", err)
		}
		where += ` AND (created_at, id) < (?, ?)`
		args = append(args, c.createdAt, c.id)
	}
	// One row more than the page tells whether another page follows.
	args = append(args, limit+1)
	query := `SELECT ` + simulationColumns + ` FROM simulations WHERE ` + where + `
ORDER BY created_at DESC, id DESC LIMIT ?`
	var rows []simulationRow
	if err := q.list(ctx, famSimulationsList, &rows, query, args...); err != nil {
		return nil, "", fmt.Errorf("list simulations: %w", err)
	}
	if len(rows) == 0 {
		// An empty page is "none yet" for the account's own location and "not found" otherwise.
		if err := q.checkLocation(ctx, accountID, locationID); err != nil {
			return nil, "", fmt.Errorf("list simulations: %w", err)
		}
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{createdAt: last.CreatedAt, id: last.ID}.encode()
	}
	out := make([]SimulationSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.simulation().SimulationSummary)
	}
	return out, next, nil
}
