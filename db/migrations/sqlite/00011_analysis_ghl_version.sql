-- The version of each workflow an analysis read (issue 12); see the PostgreSQL migration. SQLite adds
-- a column with its check in place.

-- +goose Up
ALTER TABLE analysis_workflows ADD COLUMN ghl_version INTEGER CHECK (ghl_version >= 0);

-- +goose Down
ALTER TABLE analysis_workflows DROP COLUMN ghl_version;
