-- The version of each workflow an analysis read (issue 12), so that an analysis is stale exactly
-- when GHL's version of a workflow it covered is newer than the one it read. Analyses stored before
-- this migration have no version: they are never stale, since what they read is unknown.

-- +goose Up
ALTER TABLE analysis_workflows ADD COLUMN ghl_version integer
    CONSTRAINT analysis_workflows_ghl_version_non_negative CHECK (ghl_version >= 0);

-- +goose Down
ALTER TABLE analysis_workflows DROP COLUMN ghl_version;
