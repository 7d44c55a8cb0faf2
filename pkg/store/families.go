package store

import (
	"context"
	"errors"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// queryFamily names a kind of statement: the label of database_query_duration_seconds and a row of
// /internal/db-stats. Every statement names its family where it is sent, so an operator sees which
// kind of statement is slow without reading query texts; the names are fixed here, never built
// from data.
type queryFamily string

// The query families.
const (
	famAccountsCreate                = queryFamily("accounts.create")
	famAccountsGet                   = queryFamily("accounts.get")
	famAccountsCount                 = queryFamily("accounts.count")
	famAccountsCountByTier           = queryFamily("accounts.count_by_tier")
	famAccountsUpdate                = queryFamily("accounts.update")
	famAPIKeysCreate                 = queryFamily("api_keys.create")
	famAPIKeysAuthenticate           = queryFamily("api_keys.authenticate")
	famAPIKeysTouch                  = queryFamily("api_keys.touch")
	famAPIKeysList                   = queryFamily("api_keys.list")
	famAPIKeysRevoke                 = queryFamily("api_keys.revoke")
	famAPIKeysHashes                 = queryFamily("api_keys.hashes")
	famLocationsCreate               = queryFamily("locations.create")
	famLocationsGet                  = queryFamily("locations.get")
	famLocationsCheck                = queryFamily("locations.check")
	famLocationsList                 = queryFamily("locations.list")
	famLocationsDelete               = queryFamily("locations.delete")
	famWorkflowsUpsert               = queryFamily("workflows.upsert")
	famWorkflowsImported             = queryFamily("workflows.imported")
	famWorkflowsList                 = queryFamily("workflows.list")
	famWorkflowsGet                  = queryFamily("workflows.get")
	famWorkflowsDelete               = queryFamily("workflows.delete")
	famWorkflowsOfLocation           = queryFamily("workflows.of_location")
	famWorkflowsSetLastAnalysis      = queryFamily("workflows.set_last_analysis")
	famContextsGet                   = queryFamily("contexts.get")
	famContextsPut                   = queryFamily("contexts.put")
	famAnalysesCreate                = queryFamily("analyses.create")
	famAnalysesInsertFindings        = queryFamily("analyses.insert_findings")
	famAnalysesInsertWorkflowResults = queryFamily("analyses.insert_workflow_results")
	famAnalysesFind                  = queryFamily("analyses.find")
	famAnalysesGet                   = queryFamily("analyses.get")
	famAnalysesPointCheck            = queryFamily("analyses.point_check")
	famAnalysesHistory               = queryFamily("analyses.history")
	famAnalysesRetentionScan         = queryFamily("analyses.retention_scan")
	famAnalysesRetentionDelete       = queryFamily("analyses.retention_delete")
	famSimulationsCreate             = queryFamily("simulations.create")
	famSimulationsGet                = queryFamily("simulations.get")
	famSimulationsList               = queryFamily("simulations.list")
	famGHLStatesCreate               = queryFamily("ghl_states.create")
	famGHLStatesCleanup              = queryFamily("ghl_states.cleanup")
	famGHLStatesConsume              = queryFamily("ghl_states.consume")
	famGHLStatesGet                  = queryFamily("ghl_states.get")
	famGHLConnectionsPut             = queryFamily("ghl_connections.put")
	famGHLConnectionsGet             = queryFamily("ghl_connections.get")
	famGHLConnectionsDelete          = queryFamily("ghl_connections.delete")
	famGHLConnectionsList            = queryFamily("ghl_connections.list")
	famGHLConnectionsLease           = queryFamily("ghl_connections.lease")
	famGHLConnectionsRefresh         = queryFamily("ghl_connections.refresh")
	famGHLConnectionsRelease         = queryFamily("ghl_connections.release")
	famGHLConnectionsBroken          = queryFamily("ghl_connections.broken")
	famGHLConnectionsSynced          = queryFamily("ghl_connections.synced")
	famGHLConnectionsKeys            = queryFamily("ghl_connections.keys")
	famGHLConnectionsRekey           = queryFamily("ghl_connections.rekey")
	famGHLWorkflowsRead              = queryFamily("ghl_workflows.read")
	famGHLWorkflowsUpsert            = queryFamily("ghl_workflows.upsert")
	famGHLWorkflowsDelete            = queryFamily("ghl_workflows.mark_deleted")
	famGHLWorkflowsCount             = queryFamily("ghl_workflows.count")
	famGHLWorkflowsList              = queryFamily("ghl_workflows.list")
	famGHLWorkflowsOf                = queryFamily("ghl_workflows.of_ids")
	famGHLVersionsInsert             = queryFamily("ghl_versions.insert")
	famGHLVersionsList               = queryFamily("ghl_versions.list")
	famGHLConnectionsOf              = queryFamily("ghl_connections.of_locations")
	famAnalysesStale                 = queryFamily("analyses.stale")
)

// queryFamilies lists every family, for the conformance suite.
var queryFamilies = []queryFamily{
	famAccountsCreate, famAccountsGet, famAccountsCount, famAccountsCountByTier, famAccountsUpdate,
	famAPIKeysCreate, famAPIKeysAuthenticate, famAPIKeysTouch, famAPIKeysList, famAPIKeysRevoke, famAPIKeysHashes,
	famLocationsCreate, famLocationsGet, famLocationsCheck, famLocationsList, famLocationsDelete,
	famWorkflowsUpsert, famWorkflowsImported, famWorkflowsList, famWorkflowsGet, famWorkflowsDelete,
	famWorkflowsOfLocation, famWorkflowsSetLastAnalysis, famContextsGet, famContextsPut,
	famAnalysesCreate, famAnalysesInsertFindings, famAnalysesInsertWorkflowResults, famAnalysesFind,
	famAnalysesGet, famAnalysesPointCheck, famAnalysesHistory, famAnalysesRetentionScan, famAnalysesRetentionDelete,
	famSimulationsCreate, famSimulationsGet, famSimulationsList,
	famGHLStatesCreate, famGHLStatesCleanup, famGHLStatesConsume, famGHLStatesGet,
	famGHLConnectionsPut, famGHLConnectionsGet, famGHLConnectionsDelete, famGHLConnectionsList,
	famGHLConnectionsLease, famGHLConnectionsRefresh, famGHLConnectionsRelease, famGHLConnectionsBroken,
	famGHLConnectionsSynced, famGHLConnectionsKeys, famGHLConnectionsRekey, famGHLConnectionsOf,
	famGHLWorkflowsRead, famGHLWorkflowsUpsert, famGHLWorkflowsDelete, famGHLWorkflowsCount,
	famGHLWorkflowsList, famGHLWorkflowsOf, famGHLVersionsInsert, famGHLVersionsList, famAnalysesStale,
}

// observe records a statement of family that started at start and ended with err (already turned
// into the store's errors). A missing row, a conflict or an invalid value is an answer of the
// database, not a failure of it; a statement that the caller cancelled (its client went away) did
// not fail either.
func observe(family queryFamily, start time.Time, err error) {
	failed := err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrInvalid) &&
		!errors.Is(err, context.Canceled)
	metrics.ObserveQuery(string(family), time.Since(start), failed)
}
