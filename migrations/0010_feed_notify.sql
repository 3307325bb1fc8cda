-- Every statement that adds feed entries tells listeners on channel `wiredesk_feed` when it
-- commits (NOTIFY is delivered at commit, and not at all on rollback), so that every server's
-- stream and webhook worker wake at once instead of polling (FeedWatcher.swift). The payload is
-- empty: listeners read the feed itself, which releases entries in commit order.
-- App role (:"app_role"): nothing new; the trigger runs for whoever inserts entries, and LISTEN
-- and pg_notify need no grant.

CREATE FUNCTION notify_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wiredesk_feed', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER feed_entries_notify
    AFTER INSERT ON feed_entries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_feed();
