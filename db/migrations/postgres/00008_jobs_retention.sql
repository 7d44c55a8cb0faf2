-- Indexes for the background jobs (issue 11). River's own tables (river_job and the others) come from
-- River's migrator, which the store runs before these migrations (store.DB.Migrate), so they exist
-- here.
--
-- river_job_account_idx: an account's jobs newest first, optionally in one state, for
-- GET /v1/jobs (pkg/jobs lists them through River with the predicate args->>'account_id' = $1 and
-- ORDER BY id DESC). The account travels in the job's arguments; jobs of no account (retention) have
-- NULL there. Without it the list would read every job of every account.
--
-- analyses_created_idx: the retention job walks the analyses oldest first, by (created_at, id), a
-- bounded batch per statement from where the previous batch stopped, and stops at the oldest
-- cut-off of the tiers, instead of scanning the whole table for every batch.

-- +goose Up
CREATE INDEX river_job_account_idx ON river_job ((args->>'account_id'), id DESC);
CREATE INDEX analyses_created_idx ON analyses (created_at, id);

-- +goose Down
DROP INDEX analyses_created_idx;
DROP INDEX river_job_account_idx;
