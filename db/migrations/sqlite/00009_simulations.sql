-- Simulations of a contact through a location's workflows (issue 14, pkg/simulate). The same table
-- as on PostgreSQL (see its migration for the design); times are stored as text in the format the
-- driver writes, and JSON as text checked by json_valid.

-- +goose Up
CREATE TABLE simulations (
    id                TEXT     NOT NULL PRIMARY KEY,
    account_id        TEXT     NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    location_id       TEXT     NOT NULL,
    contact_id        TEXT     NOT NULL DEFAULT '',
    start_at          DATETIME NOT NULL,
    end_at            DATETIME NOT NULL,
    messages          INTEGER  NOT NULL,
    findings          INTEGER  NOT NULL,
    workflows_entered INTEGER  NOT NULL,
    max_severity      INTEGER  NOT NULL,
    created_at        DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    request           TEXT     NOT NULL,
    result            TEXT     NOT NULL,
    CONSTRAINT simulations_location_fkey FOREIGN KEY (location_id, account_id)
        REFERENCES locations (id, account_id) ON DELETE CASCADE,
    CONSTRAINT simulations_id_format CHECK (length(id) = 24 AND substr(id, 1, 4) = 'sim_'),
    CONSTRAINT simulations_contact_id_length CHECK (length(contact_id) <= 200),
    CONSTRAINT simulations_window CHECK (end_at > start_at),
    CONSTRAINT simulations_counts_non_negative CHECK (messages >= 0 AND findings >= 0 AND workflows_entered >= 0),
    CONSTRAINT simulations_max_severity_range CHECK (max_severity BETWEEN 0 AND 3),
    CONSTRAINT simulations_max_severity_findings CHECK ((max_severity = 0) = (findings = 0)),
    CONSTRAINT simulations_request_json CHECK (json_valid(request)),
    CONSTRAINT simulations_result_json CHECK (json_valid(result))
);

CREATE INDEX simulations_location_created_idx ON simulations (location_id, created_at DESC, id DESC);

CREATE INDEX simulations_account_idx ON simulations (account_id);

-- +goose Down
DROP TABLE simulations;
