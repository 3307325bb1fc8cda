-- The web desk (/desk): passwords and browser sessions, sign-in throttling, who has a story open,
-- and the desk's internal comments. All of it lives here, so that every server behind a balancer
-- shares it. (Open queues learn of story changes by looking at `stories_updated` once a second,
-- StoryWatcher.swift, not by NOTIFY: a transaction that notifies takes a lock that every other
-- notifying commit in the cluster waits for, and story writes are the hot path.)
-- App role (:"app_role"): sets password hashes (UPDATE on users, as before); keeps sessions,
-- throttle counters and presence (SELECT, INSERT, UPDATE, DELETE); reads and adds comments, which
-- no one may change or remove.

-- A bcrypt hash (`wiredesk user passwd`), and when it was last set.
ALTER TABLE users ADD COLUMN password_hash text CHECK (password_hash ~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$');
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;

-- Changes made in the web desk say so in the trail.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_source_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_source_check CHECK (source IN ('cli', 'api', 'ingest', 'desk'));

-- Only the SHA-256 of a session's cookie is kept, as for API tokens. A session ends when its user
-- signs out, is disabled or gets a new password (the row is deleted in that transaction), when it
-- has been idle too long (seen_at) or at expires_at, whichever comes first.
CREATE TABLE desk_sessions (
    token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_name   text NOT NULL REFERENCES users (name),
    csrf        text NOT NULL CHECK (length(csrf) BETWEEN 32 AND 64),
    created_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE INDEX desk_sessions_user ON desk_sessions (user_name);
CREATE INDEX desk_sessions_expiry ON desk_sessions (expires_at);

-- Sign-in attempts per window, by client address (`address:…`) and by account (`account:…`),
-- counted before any password hash is computed (SignInThrottle.swift). Counters, not history:
-- unlogged, so that a flood of guesses writes no WAL.
CREATE UNLOGGED TABLE sign_in_attempts (
    key           text PRIMARY KEY CHECK (length(key) <= 200),
    window_start  timestamptz NOT NULL,
    attempts      integer NOT NULL,
    failures      integer NOT NULL DEFAULT 0
);

-- Who has a story open in the desk, refreshed every few seconds while the page is open.
CREATE UNLOGGED TABLE story_presence (
    story_id   uuid NOT NULL,
    user_name  text NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (story_id, user_name)
);

-- The desk's internal discussion of a story: never in the feed or an export, written once.
CREATE TABLE story_comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    story_id    uuid NOT NULL REFERENCES stories (id),
    author      text NOT NULL REFERENCES users (name),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX story_comments_story ON story_comments (story_id, id);

CREATE TRIGGER story_comments_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON story_comments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

GRANT SELECT, INSERT, UPDATE, DELETE ON desk_sessions, sign_in_attempts, story_presence TO :"app_role";
GRANT SELECT, INSERT ON story_comments TO :"app_role";
