-- API keys are stored as a hash of the secret; the prefix is the non-secret start of the key that the
-- owner sees in listings.

-- +goose Up
CREATE TABLE api_keys (
    id           TEXT     NOT NULL PRIMARY KEY,
    account_id   TEXT     NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT     NOT NULL,
    hash         TEXT     NOT NULL,
    prefix       TEXT     NOT NULL,
    created_at   DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    last_used_at DATETIME,
    revoked_at   DATETIME,
    CONSTRAINT api_keys_id_format CHECK (length(id) = 24 AND substr(id, 1, 4) = 'key_'),
    CONSTRAINT api_keys_name_length CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_keys_hash_length CHECK (length(hash) BETWEEN 32 AND 128),
    CONSTRAINT api_keys_prefix_length CHECK (length(prefix) BETWEEN 1 AND 32)
);

-- Authentication looks keys up by hash on every request. The index covers revoked keys too, so a hash
-- can never be issued twice, not even after the first key was revoked.
CREATE UNIQUE INDEX api_keys_hash_uq ON api_keys (hash);

-- Listing an account's keys newest first; it also serves the cascade from accounts.
CREATE INDEX api_keys_account_created_idx ON api_keys (account_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE api_keys;
