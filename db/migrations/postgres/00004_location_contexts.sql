-- A location's context: the tags, custom fields, calendars, users, pipelines, forms and phone numbers
-- that its workflows refer to (analyzer.Context as JSON). It comes from a bulk import or a client's
-- PUT; a location without a row has no known context, which the analyzer reports as rules not
-- assessed rather than passed.
--
-- The JSON is json, not jsonb: nothing queries inside it, and json keeps the text exactly as written,
-- so what the analyzer reads back is byte for byte what it was given.
--
-- Cascade: deleting a location deletes its context (it describes that location only).

-- +goose Up
CREATE TABLE location_contexts (
    location_id text        NOT NULL,
    context     json        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT location_contexts_pkey PRIMARY KEY (location_id),
    CONSTRAINT location_contexts_location_fkey FOREIGN KEY (location_id) REFERENCES locations (id) ON DELETE CASCADE,
    CONSTRAINT location_contexts_object CHECK (json_typeof(context) = 'object')
);

-- +goose Down
DROP TABLE location_contexts;
