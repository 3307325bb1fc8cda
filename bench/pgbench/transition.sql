-- What a transition does in the database: lock the story, update state and version, append the
-- audit event, in one transaction. (bench_ids maps 1..10000 to the seeded story ids.)
\set n random(1, 10000)
BEGIN;
SELECT s.id, s.state, s.version FROM stories s JOIN bench_ids b ON b.id = s.id WHERE b.n = :n FOR UPDATE OF s \gset
UPDATE stories SET state = CASE WHEN state = 'draft' THEN 'in_review' ELSE 'draft' END, version = version + 1,
    updated_at = now(), updated_by = 'bench-editor', corrections = '[]'::jsonb
WHERE id = :id;
INSERT INTO audit_events (actor, actor_role, source, request_id, story_id, action, from_state, to_state, version, reason)
VALUES ('bench-editor', 'editor', 'api', 'pgbench', :id, 'submit', :state, 'in_review', :version + 1, NULL);
COMMIT;
