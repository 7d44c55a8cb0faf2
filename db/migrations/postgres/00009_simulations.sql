-- Simulations of a contact through a location's workflows (issue 14, pkg/simulate).
--
-- A simulation belongs to an account and one of its locations, and refers to both together
-- (simulations_location_fkey over locations_id_account_uq), so it can only ever be in a location of
-- its own account. The summary columns copy what the list shows (start and end of the virtual
-- time, counts, the most serious finding), so a page is read from simulations_location_created_idx
-- and the rows' summaries alone; request and result are only read by GET.
--
-- Cascades: deleting an account or a location deletes its simulations. Nothing else cascades.
--
-- request and result are json, not jsonb, so they read back byte for byte as the engine wrote them
-- (a simulation's result is deterministic, and its bytes are part of that).

-- +goose Up
CREATE TABLE simulations (
    id                text        NOT NULL,
    account_id        text        NOT NULL,
    location_id       text        NOT NULL,
    contact_id        text        NOT NULL DEFAULT '',
    start_at          timestamptz NOT NULL,
    end_at            timestamptz NOT NULL,
    messages          integer     NOT NULL,
    findings          integer     NOT NULL,
    workflows_entered integer     NOT NULL,
    max_severity      smallint    NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    request           json        NOT NULL,
    result            json        NOT NULL,
    CONSTRAINT simulations_pkey PRIMARY KEY (id),
    CONSTRAINT simulations_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT simulations_location_fkey FOREIGN KEY (location_id, account_id)
        REFERENCES locations (id, account_id) ON DELETE CASCADE,
    CONSTRAINT simulations_id_format CHECK (id ~ '^sim_[a-z2-7]{20}$'),
    CONSTRAINT simulations_contact_id_length CHECK (char_length(contact_id) <= 200),
    CONSTRAINT simulations_window CHECK (end_at > start_at),
    CONSTRAINT simulations_counts_non_negative CHECK (messages >= 0 AND findings >= 0 AND workflows_entered >= 0),
    CONSTRAINT simulations_max_severity_range CHECK (max_severity BETWEEN 0 AND 3),
    CONSTRAINT simulations_max_severity_findings CHECK ((max_severity = 0) = (findings = 0))
);

-- The list: a location's simulations newest first, with the keyset cursor's order.
CREATE INDEX simulations_location_created_idx ON simulations (location_id, created_at DESC, id DESC);

-- Deleting an account finds its simulations through this index rather than a scan.
CREATE INDEX simulations_account_idx ON simulations (account_id);

-- +goose Down
DROP TABLE simulations;
