-- Finding stories: full-text search and the filters a desk asks for (StorySearch.swift).
--
-- `story_search` holds, per story, what search and summaries read: the text search document, the
-- content's fields that lists filter on and show, and a copy of the story's own state, desk,
-- assignee, version and times, so that a search filters and orders the stories that hold its words
-- without reading `stories` for each. The database writes it, whoever changes a story: the whole
-- row when the content changes (`index_story()`), the copied fields alone otherwise
-- (`mirror_story()`). None of the copied fields is indexed here, and the table leaves room in each
-- page (fillfactor), so that a transition's update of its row is a heap-only one: it touches none of
-- the table's indexes, the document's least of all.
--
-- A story matches when its `document` holds the words: headline, slug, standfirst, dateline place,
-- bylines, keywords, subject names, captions, crossheads and paragraphs (teasers, other stories'
-- headlines, are not part of it). It is ranked by `head`, the same fields but the paragraphs,
-- weighted A headline and slug; B standfirst, dateline place, bylines, keywords and subject names;
-- C captions and crossheads; ts_rank over any of the words found there: a headline hit weighs most,
-- and any hit there outranks a body hit (a story whose body alone holds the words ranks 0, and the
-- newest come first among those). Ranking by
-- the small `head` rather than the whole document keeps a search's cost to the rows it finds, not
-- to reading each one's document: it halved a common word's search over 100,000 stories. Words are
-- stemmed in the story's language where PostgreSQL has a configuration for it (`search_config`),
-- `simple` otherwise; a query is read in each configuration its stories were indexed in.
-- App role (:"app_role"): SELECT only; only the triggers' functions (SECURITY DEFINER) write the table.

CREATE FUNCTION search_config(language text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT cfgname::text FROM pg_ts_config
        WHERE cfgnamespace = 'pg_catalog'::regnamespace
          AND cfgname = CASE lower(split_part(language, '-', 1))
              WHEN 'ar' THEN 'arabic' WHEN 'hy' THEN 'armenian' WHEN 'eu' THEN 'basque' WHEN 'ca' THEN 'catalan'
              WHEN 'da' THEN 'danish' WHEN 'nl' THEN 'dutch' WHEN 'en' THEN 'english' WHEN 'fi' THEN 'finnish'
              WHEN 'fr' THEN 'french' WHEN 'de' THEN 'german' WHEN 'el' THEN 'greek' WHEN 'hi' THEN 'hindi'
              WHEN 'hu' THEN 'hungarian' WHEN 'id' THEN 'indonesian' WHEN 'ga' THEN 'irish' WHEN 'it' THEN 'italian'
              WHEN 'lt' THEN 'lithuanian' WHEN 'ne' THEN 'nepali' WHEN 'no' THEN 'norwegian'
              WHEN 'nb' THEN 'norwegian' WHEN 'nn' THEN 'norwegian' WHEN 'pt' THEN 'portuguese'
              WHEN 'ro' THEN 'romanian' WHEN 'ru' THEN 'russian' WHEN 'sr' THEN 'serbian' WHEN 'es' THEN 'spanish'
              WHEN 'sv' THEN 'swedish' WHEN 'ta' THEN 'tamil' WHEN 'tr' THEN 'turkish' WHEN 'yi' THEN 'yiddish'
          END), 'simple')
$$;

CREATE TABLE story_search (
    story_id     uuid PRIMARY KEY REFERENCES stories (id),
    -- The text search configuration the document was made with (a pg_ts_config name).
    config       text NOT NULL,
    document     tsvector NOT NULL,
    head         tsvector NOT NULL,
    -- Shown in summaries.
    headline     text,
    slug         text,
    -- Filtered on; keywords and bylines (names) lower-cased.
    source       text,
    language     text,
    urgency      integer,
    embargo      timestamptz,
    keywords     text[] NOT NULL,
    bylines      text[] NOT NULL,
    uncredited_pictures boolean NOT NULL,
    -- Copied from `stories`.
    state        text NOT NULL,
    version      integer NOT NULL,
    desk         text,
    assignee     text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    published_at timestamptz
) WITH (fillfactor = 80);

-- A document (about 4.6 KB) is kept out of the row, uncompressed (it hardly compresses): rows stay
-- small, so the rows a search's words find are read from few, cached pages. The index answers
-- which stories hold the words without reading any document (but for phrases).
ALTER TABLE story_search ALTER COLUMN document SET STORAGE EXTERNAL;

-- Words are found by configuration and document together: a word is the same lexeme in several
-- configurations ('tokayev'), and the index answers only the stories of the one asked for.
-- btree_gin (a trusted extension that ships with PostgreSQL) lets a GIN index hold the text column.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX story_search_document ON story_search USING gin (config, document);
-- By rank, the stories whose head holds the words are found by both GIN indexes at once; those whose
-- body alone holds them (rank 0) newest first, by the creation time, so that a common word's search
-- reads a page's worth of them rather than every story that holds it. (created_at never changes:
-- a transition's update of the copied fields stays heap-only.)
CREATE INDEX story_search_head ON story_search USING gin (config, head);
CREATE INDEX story_search_created ON story_search (created_at DESC, story_id DESC);
-- Which configurations are in use, read by a skip scan before each search.
CREATE INDEX story_search_config ON story_search (config);
CREATE INDEX story_search_keywords ON story_search USING gin (keywords);
CREATE INDEX story_search_bylines ON story_search USING gin (bylines);

-- Each part of the document is cut at a length that keeps a tsvector far below PostgreSQL's 1 MB
-- limit whatever the text, so no story is ever refused for being hard to index.
CREATE FUNCTION index_story(story stories) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c jsonb;
    config text;
    cfg regconfig;
    paragraphs text;
    crossheads text;
    captions text;
    bylines text[];
    keywords text[];
    subjects text;
    head tsvector;
BEGIN
    -- Once, in memory: a stored story's content is compressed and read from TOAST at each use.
    c := story.content || jsonb_build_object();
    config := search_config(c->>'language');
    cfg := config::regconfig;
    SELECT string_agg(b->>'text', ' ' ORDER BY n) FILTER (WHERE b->>'kind' = 'paragraph'),
           string_agg(b->>'text', ' ' ORDER BY n) FILTER (WHERE b->>'kind' = 'crosshead')
      INTO paragraphs, crossheads
      FROM jsonb_array_elements(coalesce(c->'body', '[]')) WITH ORDINALITY AS body(b, n);
    SELECT string_agg(p->>'caption', ' ') INTO captions FROM jsonb_array_elements(coalesce(c->'pictures', '[]')) AS p;
    SELECT coalesce(array_agg(b->>'name'), '{}') INTO bylines FROM jsonb_array_elements(coalesce(c->'bylines', '[]')) AS b;
    SELECT coalesce(array_agg(k), '{}') INTO keywords FROM jsonb_array_elements_text(coalesce(c->'keywords', '[]')) AS k;
    SELECT string_agg(s->>'name', ' ') INTO subjects FROM jsonb_array_elements(coalesce(c->'subjects', '[]')) AS s;
    head := setweight(to_tsvector(cfg, left(concat_ws(' ', c->>'headline', c->>'slug'), 4096)), 'A')
        || setweight(to_tsvector(cfg, left(concat_ws(' ', c->>'standfirst', c#>>'{dateline,place}',
                                                      array_to_string(bylines, ' '), array_to_string(keywords, ' '),
                                                      subjects), 16384)), 'B')
        || setweight(to_tsvector(cfg, left(concat_ws(' ', captions, crossheads), 16384)), 'C');
    INSERT INTO story_search AS s (
        story_id, config, document, head, headline, slug, source, language, urgency, embargo, keywords, bylines,
        uncredited_pictures, state, version, desk, assignee, created_at, updated_at, published_at)
    VALUES (
        story.id, config, head || setweight(to_tsvector(cfg, left(coalesce(paragraphs, ''), 262144)), 'D'), head,
        c->>'headline', c->>'slug', c->>'source', c->>'language', (c->>'urgency')::integer, (c->>'embargo')::timestamptz,
        (SELECT coalesce(array_agg(DISTINCT lower(k)), '{}') FROM unnest(keywords) AS k),
        (SELECT coalesce(array_agg(DISTINCT lower(b)), '{}') FROM unnest(bylines) AS b),
        EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(c->'pictures', '[]')) AS p WHERE p->>'creditline' IS NULL),
        story.state, story.version, story.desk, story.assignee, story.created_at, story.updated_at, story.published_at)
    ON CONFLICT (story_id) DO UPDATE SET
        config = EXCLUDED.config, document = EXCLUDED.document, head = EXCLUDED.head, headline = EXCLUDED.headline,
        slug = EXCLUDED.slug, source = EXCLUDED.source, language = EXCLUDED.language, urgency = EXCLUDED.urgency,
        embargo = EXCLUDED.embargo, keywords = EXCLUDED.keywords, bylines = EXCLUDED.bylines,
        uncredited_pictures = EXCLUDED.uncredited_pictures, state = EXCLUDED.state, version = EXCLUDED.version,
        desk = EXCLUDED.desk, assignee = EXCLUDED.assignee, created_at = EXCLUDED.created_at,
        updated_at = EXCLUDED.updated_at, published_at = EXCLUDED.published_at;
END;
$$;

CREATE FUNCTION index_story_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM index_story(NEW);
    RETURN NULL;
END;
$$;

CREATE FUNCTION mirror_story() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE story_search SET state = NEW.state, version = NEW.version, desk = NEW.desk, assignee = NEW.assignee,
        created_at = NEW.created_at, updated_at = NEW.updated_at, published_at = NEW.published_at
    WHERE story_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER stories_indexed
    AFTER INSERT ON stories
    FOR EACH ROW EXECUTE FUNCTION index_story_row();

CREATE TRIGGER stories_reindexed
    AFTER UPDATE OF content ON stories
    FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content) EXECUTE FUNCTION index_story_row();

-- Named to run after stories_reindexed: an edit rewrites the row, then this finds it current.
CREATE TRIGGER stories_search_mirrored
    AFTER UPDATE OF state, version, desk, assignee, created_at, updated_at, published_at ON stories
    FOR EACH ROW EXECUTE FUNCTION mirror_story();

SELECT index_story(s) FROM stories s;

-- Any of the query's words (its lexemes joined by OR, each as the query wrote it): what ranking and
-- snippets look for, where the query itself may ask for all of them, or a phrase.
CREATE FUNCTION search_terms(query tsquery) RETURNS tsquery LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT string_agg(m[1], ' | ')::tsquery
                     FROM regexp_matches(query::text, '(''(?:[^'']|'''')*'')', 'g') AS m), query)
$$;

-- The first paragraph of a story's content.
CREATE FUNCTION story_lead(content jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT left(b->>'text', 2000) FROM jsonb_array_elements(coalesce(content->'body', '[]')) AS b
    WHERE b->>'kind' = 'paragraph' LIMIT 1
$$;

-- A field's text around the query's words, as HTML-escaped text with each word found in <mark>:
-- safe to show as it is, whatever the copy holds. Every word of the query is marked wherever it
-- occurs (ts_headline alone marks only where the whole query matches in that field). A headline is
-- shown whole; a standfirst or lead paragraph as its 15 to 35 words around the words found.
CREATE FUNCTION search_snippet(config text, body text, query tsquery, whole boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT replace(replace(replace(replace(replace(
        ts_headline(config::regconfig, translate(body, E'\uE000\uE001', ''), search_terms(query),
            CASE WHEN whole THEN E'StartSel=\uE000, StopSel=\uE001, HighlightAll=true'
                 ELSE E'StartSel=\uE000, StopSel=\uE001, MaxWords=35, MinWords=15'
            END),
        '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), E'\uE000', '<mark>'), E'\uE001', '</mark>')
$$;

REVOKE ALL ON FUNCTION index_story(stories) FROM PUBLIC;
GRANT SELECT ON story_search TO :"app_role";
