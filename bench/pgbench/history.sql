-- What a history page does in the database: the story's newest audit events.
\set n random(1, 10000)
SELECT e.id, e.at, e.actor, e.actor_role, e.source, e.request_id, e.story_id, e.action, e.from_state, e.to_state,
       e.version, e.diff::text, e.reason, e.subject
FROM audit_events e JOIN bench_ids b ON b.id = e.story_id WHERE b.n = :n ORDER BY e.id DESC LIMIT 100;
