-- An account's own limits, which apply instead of its tier's: requests per minute and analyses per
-- hour. NULL means the account has none and its tier's applies; -1 means the account is not limited
-- at all (internal accounts); any other value is the limit, 1 to 1,000,000. The columns are
-- nullable without a default, so adding them rewrites no row.

-- +goose Up
ALTER TABLE accounts
    ADD COLUMN requests_per_minute integer
        CONSTRAINT accounts_requests_per_minute_range
        CHECK (requests_per_minute = -1 OR requests_per_minute BETWEEN 1 AND 1000000),
    ADD COLUMN analyses_per_hour integer
        CONSTRAINT accounts_analyses_per_hour_range
        CHECK (analyses_per_hour = -1 OR analyses_per_hour BETWEEN 1 AND 1000000);

-- +goose Down
ALTER TABLE accounts DROP COLUMN requests_per_minute, DROP COLUMN analyses_per_hour;
