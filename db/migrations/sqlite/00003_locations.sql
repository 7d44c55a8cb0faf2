-- Locations are the GHL sub-accounts an account has added. An empty timezone means GHL did not say.

-- +goose Up
CREATE TABLE locations (
    id              TEXT     NOT NULL PRIMARY KEY,
    account_id      TEXT     NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ghl_location_id TEXT     NOT NULL,
    name            TEXT     NOT NULL,
    timezone        TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at      DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CONSTRAINT locations_id_format CHECK (length(id) = 24 AND substr(id, 1, 4) = 'loc_'),
    CONSTRAINT locations_ghl_location_id_length CHECK (length(ghl_location_id) BETWEEN 1 AND 64),
    CONSTRAINT locations_name_length CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT locations_timezone_length CHECK (length(timezone) <= 64)
);

-- A GHL location can be added once per account; two accounts may both add the same one.
CREATE UNIQUE INDEX locations_account_ghl_uq ON locations (account_id, ghl_location_id);

-- Keyset pagination newest first: WHERE account_id = ? AND (created_at, id) < (?, ?) ORDER BY
-- created_at DESC, id DESC reads the index in order and stops after one page.
CREATE INDEX locations_account_created_idx ON locations (account_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE locations;
