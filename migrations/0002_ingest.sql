-- Provenance of ingested agency copy: every item exactly as it arrived, beside the story it fed.

CREATE TABLE ingest_items (
    id             uuid PRIMARY KEY,
    story_id       uuid NOT NULL REFERENCES stories (id),
    -- wire-text, ninjs-1, ninjs-2, ninjs-3
    format         text NOT NULL,
    -- The agency's own identifier and version, when the format carries them (ninjs uri, version).
    agency_uri     text,
    agency_version text,
    -- SHA-256 of the payload: the same bytes twice are one item.
    content_hash   bytea NOT NULL UNIQUE,
    payload        bytea NOT NULL,
    media_type     text NOT NULL,
    file_name      text,
    -- What the importer read from the payload, so that a later agency version can be diffed against it.
    content        jsonb NOT NULL,
    -- Whether that content went into the story (an editor's edits are never overwritten).
    applied        boolean NOT NULL,
    warnings       jsonb NOT NULL DEFAULT '[]',
    received_at    timestamptz NOT NULL DEFAULT now(),
    received_by    text NOT NULL
);

CREATE INDEX ingest_items_story ON ingest_items (story_id, received_at);
CREATE INDEX ingest_items_agency_uri ON ingest_items (agency_uri, received_at) WHERE agency_uri IS NOT NULL;

-- What came in stays as it came in.
CREATE TRIGGER ingest_items_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON ingest_items
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
