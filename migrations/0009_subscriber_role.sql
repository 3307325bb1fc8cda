-- Partner systems (a website, an app, another newsroom) get a role of their own: they read the
-- feed and its stream, and nothing else (FeedStore.readers, Workflow.readers).
-- App role (:"app_role"): no new tables, nothing new to grant.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('reporter', 'editor', 'publisher', 'admin', 'auditor', 'ingest', 'subscriber'));
