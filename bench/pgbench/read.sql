-- What a read does in the database: one story by id.
\set n random(1, 10000)
SELECT s.id, s.state, s.version, s.content::text, s.created_at, s.created_by, s.updated_at, s.updated_by,
       s.published_at, s.corrections::text, s.kill_notice
FROM stories s JOIN bench_ids b ON b.id = s.id WHERE b.n = :n;
