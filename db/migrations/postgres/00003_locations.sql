-- Locations are the GHL sub-accounts an account has added. An empty timezone means GHL did not say.

-- +goose Up
CREATE TABLE locations (
    id              text        NOT NULL,
    account_id      text        NOT NULL,
    ghl_location_id text        NOT NULL,
    name            text        NOT NULL,
    timezone        text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT locations_pkey PRIMARY KEY (id),
    CONSTRAINT locations_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT locations_id_format CHECK (id ~ '^loc_[a-z2-7]{20}$'),
    CONSTRAINT locations_ghl_location_id_length CHECK (char_length(ghl_location_id) BETWEEN 1 AND 64),
    CONSTRAINT locations_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT locations_timezone_length CHECK (char_length(timezone) <= 64)
);

-- A GHL location can be added once per account; two accounts may both add the same one.
CREATE UNIQUE INDEX locations_account_ghl_uq ON locations (account_id, ghl_location_id);

-- Keyset pagination newest first: WHERE account_id = ? AND (created_at, id) < (?, ?) ORDER BY
-- created_at DESC, id DESC reads the index in order and stops after one page.
CREATE INDEX locations_account_created_idx ON locations (account_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE locations;
