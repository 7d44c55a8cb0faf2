-- Workflows stored per location, keyed by the workflow's own GHL id. A re-import replaces the row's
-- content and keeps its id, created_at and last analysis, so its history stays attached.
--
-- The last_* columns copy the workflow's own result in the newest analysis that covered it, so that
-- the workflow list shows each workflow's grade without reading analyses. They are written in the
-- same transaction as the analysis. They are all set or all NULL; last_analysis_id alone becomes
-- NULL when that analysis is deleted, and the others are then ignored until the next analysis.
--
-- normalized (analyzer.Workflow as JSON) and raw (the workflow as imported) come last, so that reading
-- the other columns never touches their overflow pages. They are TEXT, kept byte for byte.
--
-- Cascades:
--   - deleting a location deletes its workflows;
--   - deleting an analysis sets last_analysis_id to NULL in the workflows whose last it was;
--   - deleting a workflow deletes nothing else: its analyses and per-workflow results stay in the
--     history (they do not refer to it).

-- +goose Up
CREATE TABLE workflows (
    id               TEXT     NOT NULL PRIMARY KEY,
    location_id      TEXT     NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    ghl_workflow_id  TEXT     NOT NULL,
    name             TEXT     NOT NULL,
    status           TEXT     NOT NULL,
    dialect          TEXT     NOT NULL,
    ghl_version      INTEGER  NOT NULL,
    steps            INTEGER  NOT NULL,
    last_analysis_id TEXT     REFERENCES analyses (id) ON DELETE SET NULL,
    last_score       INTEGER,
    last_grade       TEXT,
    last_errors      INTEGER,
    last_warnings    INTEGER,
    last_infos       INTEGER,
    last_analyzed_at DATETIME,
    created_at       DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at       DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    normalized       TEXT     NOT NULL,
    raw              TEXT,
    CONSTRAINT workflows_id_format CHECK (length(id) = 24 AND substr(id, 1, 4) = 'wfl_'),
    CONSTRAINT workflows_ghl_workflow_id_length CHECK (length(ghl_workflow_id) BETWEEN 1 AND 255),
    CONSTRAINT workflows_name_length CHECK (length(name) <= 500),
    CONSTRAINT workflows_status_length CHECK (length(status) BETWEEN 1 AND 64),
    CONSTRAINT workflows_dialect_length CHECK (length(dialect) <= 32),
    CONSTRAINT workflows_ghl_version_non_negative CHECK (ghl_version >= 0),
    CONSTRAINT workflows_steps_non_negative CHECK (steps >= 0),
    CONSTRAINT workflows_last_score_range CHECK (last_score BETWEEN 0 AND 100),
    CONSTRAINT workflows_last_grade_known CHECK (last_grade IN ('A', 'B', 'C', 'D', 'F')),
    CONSTRAINT workflows_last_counts_non_negative CHECK (last_errors >= 0 AND last_warnings >= 0 AND last_infos >= 0),
    CONSTRAINT workflows_last_all_or_none CHECK (
        (last_analyzed_at IS NULL AND last_analysis_id IS NULL AND last_score IS NULL AND last_grade IS NULL
            AND last_errors IS NULL AND last_warnings IS NULL AND last_infos IS NULL)
        OR (last_analyzed_at IS NOT NULL AND last_score IS NOT NULL AND last_grade IS NOT NULL
            AND last_errors IS NOT NULL AND last_warnings IS NOT NULL AND last_infos IS NOT NULL)),
    CONSTRAINT workflows_normalized_json CHECK (json_valid(normalized)),
    CONSTRAINT workflows_raw_json CHECK (json_valid(raw))
);

-- A GHL workflow is stored once per location: the import's upsert targets this index. Read in order
-- it lists a location's workflows by GHL id for an analysis, and it serves the cascade from locations.
CREATE UNIQUE INDEX workflows_location_ghl_uq ON workflows (location_id, ghl_workflow_id);

-- The workflow list newest first, keyset paginated, without and with a status filter.
CREATE INDEX workflows_location_created_idx ON workflows (location_id, created_at DESC, id DESC);
CREATE INDEX workflows_location_status_created_idx ON workflows (location_id, status, created_at DESC, id DESC);

-- Serves the SET NULL cascade when an analysis is deleted, which would otherwise scan every workflow
-- once per deleted analysis.
CREATE INDEX workflows_last_analysis_idx ON workflows (last_analysis_id) WHERE last_analysis_id IS NOT NULL;

-- +goose Down
DROP TABLE workflows;
