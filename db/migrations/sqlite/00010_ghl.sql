-- The GHL connection of a location (issue 12): its tokens, the OAuth states in flight, GHL's
-- workflow list as the syncs saw it, and the versions seen of each workflow (the drift history).
--
-- Tokens are stored only as ciphertexts ("ghlenc1:<key id>:<base64>", AES-256-GCM, see pkg/ghl);
-- key_id repeats the key of both, so that key rotation finds the rows still under an old key. A
-- refresh is done under a lease (refresh_lease_*), so that one instance at a time trades the
-- refresh token, and the new pair replaces the old in one UPDATE by the lease's owner.
--
-- Cascades:
--   - deleting a location deletes its connection and its OAuth states;
--   - deleting a connection (disconnect) deletes GHL's workflow list and the versions seen.

-- +goose Up
CREATE TABLE ghl_connections (
    location_id            TEXT     NOT NULL PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
    kind                   TEXT     NOT NULL,
    state                  TEXT     NOT NULL,
    broken_reason          TEXT     NOT NULL DEFAULT '',
    ghl_location_id        TEXT     NOT NULL,
    scopes                 TEXT     NOT NULL DEFAULT '',
    key_id                 TEXT     NOT NULL,
    access_token           TEXT     NOT NULL,
    refresh_token          TEXT,
    access_expires_at      DATETIME,
    refresh_lease_owner    TEXT,
    refresh_lease_until    DATETIME,
    connected_at           DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL,
    refreshed_at           DATETIME,
    last_sync_at           DATETIME,
    last_sync_ok           BOOLEAN,
    last_sync_detail       TEXT     NOT NULL DEFAULT '',
    last_sync_workflows    INTEGER  NOT NULL DEFAULT 0,
    last_sync_stale        INTEGER  NOT NULL DEFAULT 0,
    last_sync_not_imported INTEGER  NOT NULL DEFAULT 0,
    last_sync_deleted      INTEGER  NOT NULL DEFAULT 0,
    CONSTRAINT ghl_connections_kind_known CHECK (kind IN ('oauth', 'pit')),
    CONSTRAINT ghl_connections_state_known CHECK (state IN ('connected', 'broken')),
    CONSTRAINT ghl_connections_reason_length CHECK (length(broken_reason) <= 500),
    CONSTRAINT ghl_connections_ghl_location_id_length CHECK (length(ghl_location_id) BETWEEN 1 AND 64),
    CONSTRAINT ghl_connections_ciphertexts CHECK (substr(access_token, 1, 8) = 'ghlenc1:'
        AND (refresh_token IS NULL OR substr(refresh_token, 1, 8) = 'ghlenc1:')),
    -- An OAuth connection refreshes, so it has a refresh token and an expiry; a Private Integration
    -- Token has neither.
    CONSTRAINT ghl_connections_oauth_refreshes CHECK (
        (kind = 'oauth' AND refresh_token IS NOT NULL AND access_expires_at IS NOT NULL)
        OR (kind = 'pit' AND refresh_token IS NULL AND access_expires_at IS NULL)),
    CONSTRAINT ghl_connections_lease_both CHECK ((refresh_lease_owner IS NULL) = (refresh_lease_until IS NULL)),
    CONSTRAINT ghl_connections_sync_counts CHECK (last_sync_workflows >= 0 AND last_sync_stale >= 0
        AND last_sync_not_imported >= 0 AND last_sync_deleted >= 0)
);

-- Key rotation walks the rows still under an old key.
CREATE INDEX ghl_connections_key_idx ON ghl_connections (key_id);

-- An authorization in flight: the nonce of its signed state, consumed once by the callback.
CREATE TABLE ghl_oauth_states (
    nonce       TEXT     NOT NULL PRIMARY KEY,
    account_id  TEXT     NOT NULL,
    location_id TEXT     NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    CONSTRAINT ghl_oauth_states_nonce_length CHECK (length(nonce) BETWEEN 16 AND 64)
);

-- Issuing a state deletes the expired ones; serves the cascade from locations too.
CREATE INDEX ghl_oauth_states_expires_idx ON ghl_oauth_states (expires_at);
CREATE INDEX ghl_oauth_states_location_idx ON ghl_oauth_states (location_id);

-- GHL's workflow list of a connected location, by GHL id, as the last syncs saw it. deleted_at is
-- set when a sync no longer finds the workflow, and cleared if it comes back.
CREATE TABLE ghl_workflows (
    location_id     TEXT     NOT NULL REFERENCES ghl_connections (location_id) ON DELETE CASCADE,
    ghl_workflow_id TEXT     NOT NULL,
    name            TEXT     NOT NULL,
    status          TEXT     NOT NULL,
    version         INTEGER  NOT NULL,
    first_seen_at   DATETIME NOT NULL,
    last_seen_at    DATETIME NOT NULL,
    deleted_at      DATETIME,
    PRIMARY KEY (location_id, ghl_workflow_id),
    CONSTRAINT ghl_workflows_ghl_workflow_id_length CHECK (length(ghl_workflow_id) BETWEEN 1 AND 255),
    CONSTRAINT ghl_workflows_name_length CHECK (length(name) <= 1000),
    CONSTRAINT ghl_workflows_status_length CHECK (length(status) <= 64),
    CONSTRAINT ghl_workflows_version_non_negative CHECK (version >= 0)
);

-- Each version of a workflow a sync saw, and when first.
CREATE TABLE ghl_workflow_versions (
    location_id     TEXT     NOT NULL,
    ghl_workflow_id TEXT     NOT NULL,
    version         INTEGER  NOT NULL,
    seen_at         DATETIME NOT NULL,
    PRIMARY KEY (location_id, ghl_workflow_id, version),
    FOREIGN KEY (location_id, ghl_workflow_id) REFERENCES ghl_workflows (location_id, ghl_workflow_id) ON DELETE CASCADE,
    CONSTRAINT ghl_workflow_versions_version_non_negative CHECK (version >= 0)
);

-- +goose Down
DROP TABLE ghl_workflow_versions;
DROP TABLE ghl_workflows;
DROP TABLE ghl_oauth_states;
DROP TABLE ghl_connections;
