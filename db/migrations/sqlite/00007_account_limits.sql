-- An account's own limits, which apply instead of its tier's: requests per minute and analyses per
-- hour. NULL means the account has none and its tier's applies; -1 means the account is not limited
-- at all (internal accounts); any other value is the limit, 1 to 1,000,000.
--
-- The CHECK constraints are the columns' own, so that DROP COLUMN can remove them with the columns
-- (SQLite refuses to drop a column that a table constraint names). They also require an integer:
-- an INTEGER column of SQLite keeps a value such as 2.5 as it is.

-- +goose Up
ALTER TABLE accounts ADD COLUMN requests_per_minute INTEGER
    CONSTRAINT accounts_requests_per_minute_range
    CHECK (requests_per_minute IS NULL OR (typeof(requests_per_minute) = 'integer' AND (requests_per_minute = -1 OR requests_per_minute BETWEEN 1 AND 1000000)));
ALTER TABLE accounts ADD COLUMN analyses_per_hour INTEGER
    CONSTRAINT accounts_analyses_per_hour_range
    CHECK (analyses_per_hour IS NULL OR (typeof(analyses_per_hour) = 'integer' AND (analyses_per_hour = -1 OR analyses_per_hour BETWEEN 1 AND 1000000)));

-- +goose Down
ALTER TABLE accounts DROP COLUMN analyses_per_hour;
ALTER TABLE accounts DROP COLUMN requests_per_minute;
