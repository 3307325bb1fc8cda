-- The feed downstream systems take (FeedStore.swift): one entry per publish, correction and kill,
-- written by the story's own change statement (StoryStore), so an entry exists exactly when its
-- change committed. Entries are read in (txid, id) order and only once their transaction is older
-- than every transaction still running, as the audit chain is sealed: no transaction that started
-- earlier can commit later into a place a consumer has already read past.
-- App role (:"app_role"): SELECT and INSERT; the feed is history like the trail.

CREATE TABLE feed_entries (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at        timestamptz NOT NULL DEFAULT now(),
    story_id  uuid NOT NULL REFERENCES stories (id),
    version   integer NOT NULL CHECK (version >= 1),
    kind      text NOT NULL CHECK (kind IN ('publish', 'correct', 'kill')),
    -- The story as ninjs 3.1 at that version, without versionCreated (the entry's `at`).
    item      jsonb NOT NULL,
    UNIQUE (story_id, version)
);

CREATE INDEX feed_entries_order ON feed_entries (txid, id);
-- The newest kill: a page's ETag changes with it, since a kill turns earlier entries into tombstones.
CREATE INDEX feed_entries_kills ON feed_entries (id) WHERE kind = 'kill';

CREATE TRIGGER feed_entries_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON feed_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- The order is the database's: an entry cannot be given a time or transaction.
CREATE FUNCTION refuse_forged_feed_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.at IS DISTINCT FROM now() OR NEW.txid IS DISTINCT FROM pg_current_xact_id() THEN
        RAISE EXCEPTION 'feed entries are stamped by the database: at and txid cannot be given'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER feed_entries_stamped
    BEFORE INSERT ON feed_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_forged_feed_entry();

GRANT SELECT, INSERT ON feed_entries TO :"app_role";
