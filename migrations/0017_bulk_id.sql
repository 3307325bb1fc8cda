-- A bulk change (`POST /v1/stories/bulk/…`, `wiredesk story bulk`) applies one transition or
-- assignment to many stories, each in its own transaction; its events carry the one id that ties
-- them together (`GET /v1/audit?bulk=…`). The chain hashes the id as a sixteenth field of an event
-- that has one (AuditChain.CanonicalEvent), so events written before it keep their hashes.
-- App role (:"app_role"): nothing new; it inserts events as before.

ALTER TABLE audit_events ADD COLUMN bulk_id uuid;
CREATE INDEX audit_events_bulk ON audit_events (bulk_id, id) WHERE bulk_id IS NOT NULL;
