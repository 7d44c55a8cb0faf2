-- Accounts are the agencies that use ghl-debugger. Ids and times come from the application, so the
-- defaults only serve rows written by hand (operators, tests). Times are DATETIME so that the driver
-- scans them as time.Time; the application writes them as "2006-01-02 15:04:05.999999-07:00" in UTC
-- (the driver's _time_format=sqlite), which sorts as text in time order.

-- +goose Up
CREATE TABLE accounts (
    id         TEXT     NOT NULL PRIMARY KEY,
    name       TEXT     NOT NULL,
    tier       TEXT     NOT NULL DEFAULT 'free',
    is_admin   BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CONSTRAINT accounts_id_format CHECK (length(id) = 24 AND substr(id, 1, 4) = 'acc_'),
    CONSTRAINT accounts_name_length CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT accounts_tier_known CHECK (tier IN ('free', 'pro', 'enterprise')),
    CONSTRAINT accounts_is_admin_bool CHECK (is_admin IN (FALSE, TRUE))
);

-- +goose Down
DROP TABLE accounts;
