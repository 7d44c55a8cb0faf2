-- API keys are stored as a hash of the secret; the prefix is the non-secret start of the key that the
-- owner sees in listings.

-- +goose Up
CREATE TABLE api_keys (
    id           text        NOT NULL,
    account_id   text        NOT NULL,
    name         text        NOT NULL,
    hash         text        NOT NULL,
    prefix       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_id_format CHECK (id ~ '^key_[a-z2-7]{20}$'),
    CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_keys_hash_length CHECK (char_length(hash) BETWEEN 32 AND 128),
    CONSTRAINT api_keys_prefix_length CHECK (char_length(prefix) BETWEEN 1 AND 32)
);

-- Authentication looks keys up by hash on every request. The index covers revoked keys too, so a hash
-- can never be issued twice, not even after the first key was revoked.
CREATE UNIQUE INDEX api_keys_hash_uq ON api_keys (hash);

-- Listing an account's keys newest first; it also serves the cascade from accounts.
CREATE INDEX api_keys_account_created_idx ON api_keys (account_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE api_keys;
