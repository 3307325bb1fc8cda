-- Auditors query the whole trail newest first, filtered by actor, action, time, story or request
-- (AuditQuery.swift). Each filter has an index in that order, so the first page costs the same at
-- a thousand events and at millions: PostgreSQL reads the index backwards and stops at the page.
-- An actor or action with a time range uses the same index. (The server's sessions price random
-- page reads as SSD does, random_page_cost 1.1, so that the planner takes these indexes; see
-- Database.swift.)
-- On a large trail these builds block new events while they run (seconds per million rows).
-- App role (:"app_role"): no new tables, nothing new to grant; audit_events stays INSERT, SELECT.

CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor_at ON audit_events (actor, at, id);
CREATE INDEX audit_events_action_at ON audit_events (action, at, id);
CREATE INDEX audit_events_story_at ON audit_events (story_id, at, id);
CREATE INDEX audit_events_source_at ON audit_events (source, at, id);
CREATE INDEX audit_events_request ON audit_events (request_id) WHERE request_id IS NOT NULL;
