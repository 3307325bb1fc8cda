-- The server and the CLI connect as the app role (`:"app_role"`, WIREDESK_APP_ROLE), which owns
-- nothing: it cannot disable, drop or replace the triggers that keep history append-only, and it
-- holds only INSERT and SELECT on every table that records history. `wiredesk migrate`, run as the
-- owner, creates the role when it is missing and puts its name where `:"app_role"` stands.
-- From this migration on, each migration states the app role's grants.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"app_role";
GRANT SELECT, INSERT, UPDATE ON stories, users, api_tokens TO :"app_role";
GRANT SELECT, INSERT ON audit_events, revisions, ingest_items TO :"app_role";
GRANT SELECT ON schema_migrations TO :"app_role";

-- Tamper evidence. Every event is bound into one SHA-256 chain (AuditChain.swift) by a sealer
-- that runs shortly after commit, so writers never wait on one another for it. The chain's order
-- is the order transactions finished in: (txid, id) for events whose transaction is older than
-- every transaction still running, so no later commit can land before a sealed event.
ALTER TABLE audit_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX audit_events_seal_order ON audit_events (txid, id);

-- The time and transaction of an event are the database's, never the writer's.
CREATE FUNCTION refuse_forged_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.at IS DISTINCT FROM now() OR NEW.txid IS DISTINCT FROM pg_current_xact_id() THEN
        RAISE EXCEPTION 'audit events are stamped by the database: at and txid cannot be given'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_events_stamped
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_forged_audit_event();

-- One row per sealing round: the events it chained, in chain order, and the chain's hash after
-- each of them (32 bytes apiece). Positions are 1-based and continue from seal to seal.
CREATE TABLE audit_seals (
    seq            bigint PRIMARY KEY CHECK (seq >= 1),
    first_position bigint NOT NULL CHECK (first_position >= 1),
    event_ids      bigint[] NOT NULL CHECK (cardinality(event_ids) >= 1),
    hashes         bytea NOT NULL CHECK (octet_length(hashes) = 32 * cardinality(event_ids)),
    -- The sealer's place in (txid, id) order after this seal.
    last_txid      xid8 NOT NULL,
    last_id        bigint NOT NULL,
    sealed_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER audit_seals_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

GRANT SELECT, INSERT ON audit_seals TO :"app_role";
