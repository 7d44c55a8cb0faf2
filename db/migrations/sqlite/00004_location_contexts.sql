-- A location's context: the tags, custom fields, calendars, users, pipelines, forms and phone numbers
-- that its workflows refer to (analyzer.Context as JSON). It comes from a bulk import or a client's
-- PUT; a location without a row has no known context, which the analyzer reports as rules not
-- assessed rather than passed.
--
-- The JSON is TEXT, kept byte for byte as written; the CHECK makes it a JSON object. json_type
-- fails on malformed text instead of returning false, so validity is tested first.
--
-- Cascade: deleting a location deletes its context (it describes that location only).

-- +goose Up
CREATE TABLE location_contexts (
    location_id TEXT     NOT NULL PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
    context     TEXT     NOT NULL,
    updated_at  DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    CONSTRAINT location_contexts_object CHECK (CASE WHEN json_valid(context) THEN json_type(context) = 'object' ELSE 0 END)
);

-- +goose Down
DROP TABLE location_contexts;
