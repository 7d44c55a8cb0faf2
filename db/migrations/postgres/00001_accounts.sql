-- Accounts are the agencies that use ghl-debugger. Ids and times come from the application, so the
-- defaults only serve rows written by hand (operators, tests).

-- +goose Up
CREATE TABLE accounts (
    id         text        NOT NULL,
    name       text        NOT NULL,
    tier       text        NOT NULL DEFAULT 'free',
    is_admin   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_id_format CHECK (id ~ '^acc_[a-z2-7]{20}$'),
    CONSTRAINT accounts_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT accounts_tier_known CHECK (tier IN ('free', 'pro', 'enterprise'))
);

-- +goose Down
DROP TABLE accounts;
