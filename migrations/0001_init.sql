-- Wiredesk schema: users and tokens, stories, their revisions, and the audit trail.

CREATE TABLE users (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role        text NOT NULL CHECK (role IN ('reporter', 'editor', 'publisher', 'admin', 'auditor')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Only the SHA-256 of a token is kept; the token itself is shown once, when created.
CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    user_name   text NOT NULL REFERENCES users (name),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE stories (
    id           uuid PRIMARY KEY,
    state        text NOT NULL CHECK (state IN ('draft', 'in_review', 'approved', 'published', 'spiked', 'killed')),
    version      integer NOT NULL CHECK (version >= 1),
    content      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL REFERENCES users (name),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL REFERENCES users (name),
    published_at timestamptz,
    corrections  jsonb NOT NULL DEFAULT '[]',
    kill_notice  text
);

-- Newest-first listing, whole and by state, paged by (created_at, id).
CREATE INDEX stories_created ON stories (created_at DESC, id DESC);
CREATE INDEX stories_state_created ON stories (state, created_at DESC, id DESC);

-- One full snapshot per content change.
CREATE TABLE revisions (
    story_id    uuid NOT NULL REFERENCES stories (id),
    number      integer NOT NULL CHECK (number >= 1),
    version     integer NOT NULL,
    state       text NOT NULL,
    content     jsonb NOT NULL,
    diff        jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    PRIMARY KEY (story_id, number)
);

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    actor_role  text NOT NULL,
    source      text NOT NULL CHECK (source IN ('cli', 'api', 'ingest')),
    request_id  text,
    story_id    uuid REFERENCES stories (id),
    action      text NOT NULL,
    from_state  text,
    to_state    text,
    version     integer,
    diff        jsonb,
    reason      text,
    subject     text
);

CREATE INDEX audit_events_story ON audit_events (story_id, id);

-- History is written once. The database itself refuses to change or remove it, whatever the
-- client: statement-level triggers fire even when no row matches, and TRUNCATE has its own.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

CREATE TRIGGER revisions_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON revisions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
