-- Desks (World, Business, Sports…) that stories belong to, and the person a story is assigned to.
-- Admins manage desks (`wiredesk desk`); editors move stories between desks and people
-- (StoryStore.assign, audited as `assign`). Ingest may route new agency copy to a desk by its
-- source or a keyword (`desk_routes`, tried in the order they were added; none by default).
-- Both show in the story as the API sends it (`desk`, `assignee`), so render_story() writes them.
-- App role (:"app_role"): reads and adds desks and routes, removes routes; stories as before.

CREATE TABLE desks (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 100 AND title !~ '[[:cntrl:]]'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);

CREATE TABLE desk_routes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    desk        text NOT NULL REFERENCES desks (name),
    field       text NOT NULL CHECK (field IN ('source', 'keyword')),
    value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 200 AND value !~ '[[:cntrl:]]'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);

-- One rule per source or keyword (compared without case), so that where copy goes is never a tie.
CREATE UNIQUE INDEX desk_routes_match ON desk_routes (field, lower(value));

ALTER TABLE stories ADD COLUMN desk text REFERENCES desks (name);
ALTER TABLE stories ADD COLUMN assignee text REFERENCES users (name);

-- A desk's queue and a person's, newest first; the last-updated order. The first two are partial:
-- a story with no desk or no assignee costs them nothing.
CREATE INDEX stories_desk_created ON stories (desk, created_at DESC, id DESC) WHERE desk IS NOT NULL;
CREATE INDEX stories_assignee_created ON stories (assignee, created_at DESC, id DESC) WHERE assignee IS NOT NULL;
CREATE INDEX stories_updated ON stories (updated_at DESC, id DESC);

CREATE OR REPLACE FUNCTION render_story() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rendered := (
        '{"bylines": [], "keywords": [], "subjects": [], "body": [], "pictures": [], "teasers": []}'::jsonb
        || NEW.content
        || jsonb_build_object(
             'id', NEW.id, 'state', NEW.state, 'version', NEW.version,
             'createdAt', api_timestamp(NEW.created_at), 'createdBy', NEW.created_by,
             'updatedAt', api_timestamp(NEW.updated_at), 'updatedBy', NEW.updated_by,
             'corrections', NEW.corrections)
        || jsonb_strip_nulls(jsonb_build_object(
             'publishedAt', api_timestamp(NEW.published_at), 'killNotice', NEW.kill_notice,
             'desk', NEW.desk, 'assignee', NEW.assignee)))::text;
    RETURN NEW;
END;
$$;

GRANT SELECT, INSERT ON desks TO :"app_role";
GRANT SELECT, INSERT, DELETE ON desk_routes TO :"app_role";
