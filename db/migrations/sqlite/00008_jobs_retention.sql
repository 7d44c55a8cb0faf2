-- Indexes for the background jobs (issue 11). River's own tables (river_job and the others) come from
-- River's migrator, which the store runs before these migrations (store.DB.Migrate), so they exist
-- here.
--
-- river_job_account_idx: an account's jobs newest first, optionally in one state, for
-- GET /v1/jobs (pkg/jobs lists them through River with the predicate args ->> '$.account_id' = ? and
-- ORDER BY id DESC). The account travels in the job's arguments; jobs of no account (retention) have
-- NULL there. Without it the list would read every job of every account.
--
-- analyses_created_idx: the retention job walks the analyses oldest first, by (created_at, id), a
-- bounded batch per statement from where the previous batch stopped, and stops at the oldest
-- cut-off of the tiers, instead of scanning the whole table for every batch.
--
-- analyses_location_scope_idx: the retention keeps each location's newest location-scope analysis;
-- this partial index holds only those analyses, per location newest first, so that finding it is
-- one probe. (On analyses_location_created_idx the planner may instead read analyses_created_idx
-- backwards through every newer analysis of every location, betting on an early match.)

-- +goose Up
CREATE INDEX river_job_account_idx ON river_job ((args ->> '$.account_id'), id DESC);
CREATE INDEX analyses_created_idx ON analyses (created_at, id);
CREATE INDEX analyses_location_scope_idx ON analyses (location_id, created_at DESC, id DESC) WHERE scope = 'location';

-- +goose Down
DROP INDEX analyses_location_scope_idx;
DROP INDEX analyses_created_idx;
DROP INDEX river_job_account_idx;
