-- What a create does in the database: the story, its first revision and its audit event, in one
-- transaction. :content is the story document (pgbench -D content=...).
BEGIN;
INSERT INTO stories (id, state, version, content, created_by, updated_by)
VALUES (gen_random_uuid(), 'draft', 1, :content::jsonb, 'bench-editor', 'bench-editor') RETURNING id \gset
INSERT INTO revisions (story_id, number, version, state, content, diff, created_at, created_by)
SELECT :id, COALESCE(max(number), 0) + 1, 1, 'draft', :content::jsonb, :diff::jsonb, now(), 'bench-editor'
FROM revisions WHERE story_id = :id;
INSERT INTO audit_events (actor, actor_role, source, request_id, story_id, action, to_state, version, diff)
VALUES ('bench-editor', 'editor', 'api', 'pgbench', :id, 'create', 'draft', 1, :diff::jsonb);
COMMIT;
