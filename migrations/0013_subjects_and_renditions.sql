-- Stories gain coded subjects (`subjects`, IPTC Media Topics and the like) and pictures their
-- renditions (agency files of a picture), read from NewsML-G2 and NITF. The API's `Story` lists
-- `subjects` always, as it does `keywords`: the rendering supplies an empty list for content
-- written before the field existed (pictures' `renditions` is optional, nothing to supply).
-- App role (:"app_role"): nothing new.

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
             'publishedAt', api_timestamp(NEW.published_at), 'killNotice', NEW.kill_notice)))::text;
    RETURN NEW;
END;
$$;

UPDATE stories SET rendered = NULL WHERE NOT (content ? 'subjects');
