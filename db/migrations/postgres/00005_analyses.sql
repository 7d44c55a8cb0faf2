-- Analyses, their findings and their per-workflow results.
--
-- An analysis belongs to an account and, unless it is a posted document analysed on its own, to one
-- of the account's locations. Its key (location, scope, workflow, content hash, analyzer version) is
-- unique per account: the same input analysed by the same analyzer is stored once and reused.
-- workflow_id names the analysed workflow (scope 'workflow') by our id, without a reference: an
-- analysis outlives the workflow, because its report holds everything about it.
--
-- findings has one row per finding and analysis_workflows one row per stored workflow an analysis
-- covered. Both copy the analysis's location_id, created_at and max_severity (as
-- analysis_max_severity), which never change: a page of the history filtered by workflow or rule is
-- then chosen from one index alone, read in history order and stopped after the page, and only that
-- page's analyses are read. analysis_workflows names workflows by our id as text, again without a
-- reference, so a workflow's history survives its deletion.
--
-- Cascades:
--   - deleting an account deletes its analyses (and their findings and results);
--   - deleting a location deletes its analyses, findings and results: the history of a location that
--     no longer exists has no owner to show it to;
--   - deleting an analysis deletes its findings and results, which are parts of it;
--   - deleting a workflow deletes nothing here (there is no reference to it).
-- Nothing else cascades.
--
-- Reports are json, not jsonb: json keeps the text as written, so a stored report reads back byte
-- for byte as the analyzer produced it (jsonb would reorder its keys).

-- +goose Up

-- The pair (id, account_id) is unique because id is; this index lets analyses refer to both, so that
-- an analysis can only ever be in a location of its own account.
CREATE UNIQUE INDEX locations_id_account_uq ON locations (id, account_id);

CREATE TABLE analyses (
    id               text        NOT NULL,
    account_id       text        NOT NULL,
    location_id      text,
    scope            text        NOT NULL,
    workflow_id      text,
    content_hash     text        NOT NULL,
    analyzer_version text        NOT NULL,
    score            integer     NOT NULL,
    grade            text        NOT NULL,
    errors           integer     NOT NULL,
    warnings         integer     NOT NULL,
    infos            integer     NOT NULL,
    max_severity     smallint    NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    report           json        NOT NULL,
    CONSTRAINT analyses_pkey PRIMARY KEY (id),
    CONSTRAINT analyses_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT analyses_location_fkey FOREIGN KEY (location_id, account_id)
        REFERENCES locations (id, account_id) ON DELETE CASCADE,
    CONSTRAINT analyses_id_format CHECK (id ~ '^ana_[a-z2-7]{20}$'),
    CONSTRAINT analyses_scope_known CHECK (scope IN ('location', 'workflow', 'document')),
    CONSTRAINT analyses_scope_location CHECK (scope = 'document' OR location_id IS NOT NULL),
    CONSTRAINT analyses_scope_workflow CHECK ((scope = 'workflow') = (workflow_id IS NOT NULL)),
    CONSTRAINT analyses_workflow_id_format CHECK (workflow_id ~ '^wfl_[a-z2-7]{20}$'),
    CONSTRAINT analyses_content_hash_format CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT analyses_analyzer_version_length CHECK (char_length(analyzer_version) BETWEEN 1 AND 32),
    CONSTRAINT analyses_score_range CHECK (score BETWEEN 0 AND 100),
    CONSTRAINT analyses_grade_known CHECK (grade IN ('A', 'B', 'C', 'D', 'F')),
    CONSTRAINT analyses_counts_non_negative CHECK (errors >= 0 AND warnings >= 0 AND infos >= 0),
    CONSTRAINT analyses_max_severity_range CHECK (max_severity BETWEEN 0 AND 3),
    CONSTRAINT analyses_max_severity_counts CHECK (max_severity =
        CASE WHEN errors > 0 THEN 3 WHEN warnings > 0 THEN 2 WHEN infos > 0 THEN 1 ELSE 0 END)
);

-- One analysis per key and account, and the lookup that reuses it. NULLs would be distinct in a
-- unique index, so the optional parts are compared as ''. The index also serves the cascade from
-- accounts.
CREATE UNIQUE INDEX analyses_key_uq ON analyses
    (account_id, content_hash, analyzer_version, scope, COALESCE(location_id, ''), COALESCE(workflow_id, ''));

-- A location's history newest first, keyset paginated: WHERE location_id = ? AND (created_at, id) <
-- (?, ?) ORDER BY created_at DESC, id DESC reads the index in order and stops after one page. Time
-- ranges are index conditions too. It also serves the cascade from locations.
CREATE INDEX analyses_location_created_idx ON analyses (location_id, created_at DESC, id DESC);

-- The history filtered by minimum severity. A filter on the index above would read every cleaner
-- analysis on the way, and analyses with errors are usually the few; each partial index holds only
-- the analyses at or above its severity, in history order. The queries spell the predicate the same
-- way (max_severity >= N with N a literal) so that the planner can prove the index applies.
CREATE INDEX analyses_location_info_idx ON analyses (location_id, created_at DESC, id DESC) WHERE max_severity >= 1;
CREATE INDEX analyses_location_warning_idx ON analyses (location_id, created_at DESC, id DESC) WHERE max_severity >= 2;
CREATE INDEX analyses_location_error_idx ON analyses (location_id, created_at DESC, id DESC) WHERE max_severity >= 3;

CREATE TABLE findings (
    analysis_id   text        NOT NULL,
    ordinal       integer     NOT NULL,
    location_id   text,
    created_at    timestamptz NOT NULL,
    rule_id       text        NOT NULL,
    severity      text        NOT NULL,
    workflow_id   text        NOT NULL DEFAULT '',
    step_id       text        NOT NULL DEFAULT '',
    first_of_rule boolean     NOT NULL,
    analysis_max_severity smallint NOT NULL,
    CONSTRAINT findings_pkey PRIMARY KEY (analysis_id, ordinal),
    CONSTRAINT findings_analysis_fkey FOREIGN KEY (analysis_id) REFERENCES analyses (id) ON DELETE CASCADE,
    CONSTRAINT findings_ordinal_non_negative CHECK (ordinal >= 0),
    CONSTRAINT findings_rule_id_length CHECK (char_length(rule_id) BETWEEN 1 AND 32),
    CONSTRAINT findings_severity_known CHECK (severity IN ('error', 'warning', 'info')),
    CONSTRAINT findings_analysis_max_severity_range CHECK (analysis_max_severity BETWEEN 0 AND 3)
);

-- first_of_rule marks the first finding of each rule within an analysis, so that "analyses with a
-- finding of rule R" reads one index entry per analysis however often R fired in it. The unique
-- index says there is at most one such finding per rule and answers "does analysis A have R?" when
-- another filter leads; the second index leads the history filtered by rule, in history order, and
-- carries the severity so that a severity filter is checked without leaving the index.
CREATE UNIQUE INDEX findings_rule_first_uq ON findings (analysis_id, rule_id) WHERE first_of_rule;
CREATE INDEX findings_location_rule_idx ON findings
    (location_id, rule_id, created_at DESC, analysis_id DESC, analysis_max_severity) WHERE first_of_rule;

CREATE TABLE analysis_workflows (
    analysis_id text        NOT NULL,
    workflow_id text        NOT NULL,
    location_id text        NOT NULL,
    created_at  timestamptz NOT NULL,
    score       integer     NOT NULL,
    grade       text        NOT NULL,
    errors      integer     NOT NULL,
    warnings    integer     NOT NULL,
    infos       integer     NOT NULL,
    analysis_max_severity smallint NOT NULL,
    CONSTRAINT analysis_workflows_pkey PRIMARY KEY (analysis_id, workflow_id),
    CONSTRAINT analysis_workflows_analysis_fkey FOREIGN KEY (analysis_id) REFERENCES analyses (id) ON DELETE CASCADE,
    CONSTRAINT analysis_workflows_workflow_id_format CHECK (workflow_id ~ '^wfl_[a-z2-7]{20}$'),
    CONSTRAINT analysis_workflows_score_range CHECK (score BETWEEN 0 AND 100),
    CONSTRAINT analysis_workflows_grade_known CHECK (grade IN ('A', 'B', 'C', 'D', 'F')),
    CONSTRAINT analysis_workflows_counts_non_negative CHECK (errors >= 0 AND warnings >= 0 AND infos >= 0),
    CONSTRAINT analysis_workflows_analysis_max_severity_range CHECK (analysis_max_severity BETWEEN 0 AND 3)
);

-- A workflow's history, newest first and keyset paginated like the location's; the severity is
-- carried for the same reason as in findings_location_rule_idx.
CREATE INDEX analysis_workflows_history_idx ON analysis_workflows
    (location_id, workflow_id, created_at DESC, analysis_id DESC, analysis_max_severity);

-- A workflow belongs to one location, so workflow_id determines location_id. Without this the planner
-- multiplies the two equalities' selectivities as if they were independent and expects far fewer
-- rows per workflow than there are.
CREATE STATISTICS analysis_workflows_location_workflow_stx (dependencies) ON location_id, workflow_id
    FROM analysis_workflows;

-- +goose Down
DROP TABLE analysis_workflows;
DROP TABLE findings;
DROP TABLE analyses;
DROP INDEX locations_id_account_uq;
