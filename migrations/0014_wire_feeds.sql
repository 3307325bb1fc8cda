-- Agency feeds taken in around the clock (WireFeedStore.swift): drop folders and HTTP feeds
-- polled at an interval. Operators add and manage them (`wiredesk feed`, audited); one server's
-- ingest worker (IngestWorker.swift) works them and records here where each stands, so that a
-- restart, or another server taking over, resumes where the last one stopped.
-- App role (:"app_role"): the admin commands manage feeds and the worker records its progress,
-- so SELECT, INSERT, UPDATE, DELETE.

CREATE TABLE wire_feeds (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    kind            text NOT NULL CHECK (kind IN ('folder', 'http')),
    -- A folder's absolute path, or the feed's http(s) URL (never with credentials in it).
    location        text NOT NULL CHECK (length(location) BETWEEN 1 AND 2000),
    -- The user the feed's items are ingested as; their role must allow ingest.
    ingest_as       text NOT NULL REFERENCES users (name),
    -- A format to read every item as, or NULL to tell by the item.
    format          text CHECK (format IN ('wire-text', 'ninjs', 'newsml-g2', 'nitf')),
    -- How often an HTTP feed is asked for news (and a folder looked at).
    interval_ms     integer NOT NULL CHECK (interval_ms BETWEEN 10 AND 86400000),
    -- How long one HTTP request may take.
    timeout_ms      integer NOT NULL CHECK (timeout_ms BETWEEN 10 AND 600000),
    -- The longest wait after failures (each failure doubles the interval, up to this).
    max_backoff_ms  integer NOT NULL CHECK (max_backoff_ms BETWEEN 10 AND 86400000),
    -- How long a file must have stopped changing before it is taken.
    settle_ms       integer NOT NULL CHECK (settle_ms BETWEEN 0 AND 3600000),
    -- The HTTP feed's Authorization header value. Stored, never shown: `feed list`, logs and
    -- /metrics say only whether there is one.
    credentials     text,
    paused          boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    -- Where an HTTP feed stands: its validators and, for a ninjs list, the cursor to ask after.
    etag            text,
    last_modified   text,
    position        text,
    -- What the worker last saw.
    last_polled_at  timestamptz,
    last_item_at    timestamptz,
    last_item       text,
    last_error_at   timestamptz,
    last_error      text,
    -- Failures since the last success, and when the feed is next due.
    failures        integer NOT NULL DEFAULT 0,
    due_at          timestamptz NOT NULL DEFAULT now(),
    -- The last time the feed had nothing waiting: its lag is how long ago that was.
    caught_up_at    timestamptz,
    items           bigint NOT NULL DEFAULT 0,
    errors          bigint NOT NULL DEFAULT 0
);

GRANT SELECT, INSERT, UPDATE, DELETE ON wire_feeds TO :"app_role";

-- Which feed brought an item (NULL: a request or `wiredesk import`), for a feed's items per hour.
-- Only a name: a feed removed later leaves its items' provenance as it was.
ALTER TABLE ingest_items ADD COLUMN feed text;
CREATE INDEX ingest_items_feed ON ingest_items (feed, received_at) WHERE feed IS NOT NULL;
