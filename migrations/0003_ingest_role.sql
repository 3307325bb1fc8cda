-- Feed scripts get a role of their own: they take agency copy in and apply the agency's updates,
-- and nothing else.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('reporter', 'editor', 'publisher', 'admin', 'auditor', 'ingest'));
