-- What a list page does in the database: the newest 50 stories (and one more, to know whether
-- there is a next page).
SELECT s.id, s.state, s.version, s.content::text, s.created_at, s.created_by, s.updated_at, s.updated_by,
       s.published_at, s.corrections::text, s.kill_notice
FROM stories s ORDER BY s.created_at DESC, s.id DESC LIMIT 51;
