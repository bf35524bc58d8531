-- The one declared schema of the newsner warehouse.
-- Arrow/Parquet schemas used by the stages are derived from this file (tasks/warehouse.py).
-- Every change comes with a numbered migration in tasks/sql/migrations/ that brings a warehouse of the
-- previous version here; a test checks that the migrations and this file agree.

CREATE TABLE IF NOT EXISTS meta (
    key             VARCHAR PRIMARY KEY,   -- 'schema_version'
    value           VARCHAR NOT NULL       -- its value, e.g. the schema version number
);

CREATE TABLE IF NOT EXISTS articles (
    article_id      VARCHAR PRIMARY KEY,   -- sha256 of the normalised text (first 16 hex digits)
    external_id     VARCHAR NOT NULL,      -- the input's own id: JSONL "id" or the file path
    source          VARCHAR,               -- publisher, when the input says so
    url             VARCHAR,               -- canonical URL of the page or item, when known
    title           VARCHAR,               -- headline, when the input has one
    description     VARCHAR,               -- the dek line of wire copy
    authors         VARCHAR[] NOT NULL,    -- from metadata or the trailing "By ..." byline
    published_at    TIMESTAMP,             -- UTC; NULL when no date was found (never guessed)
    date_method     VARCHAR NOT NULL CHECK (date_method IN ('metadata', 'feed', 'text', 'none')), -- where published_at came from: metadata, feed, text or none
    text            VARCHAR NOT NULL,      -- cleaned text that NER saw; mention offsets point into it
    word_count      INTEGER NOT NULL CHECK (word_count >= 0), -- words in text (whitespace-separated)
    language        VARCHAR,               -- ISO 639-1 code detected from the text, or declared by the input
    language_score  DOUBLE,                -- detector confidence, 0-1
    extraction_method VARCHAR NOT NULL,    -- wire, jsonl, csv, trafilatura, feed-content, feed-summary, feed-title
    wire_attribution VARCHAR,              -- dateline and wire markers taken out of the text
    story_id        VARCHAR NOT NULL,      -- shared by near-duplicate copies of one story
    input_path      VARCHAR NOT NULL,      -- file the article came from
    run_id          VARCHAR NOT NULL,      -- run that first stored it
    language_evidence VARCHAR NOT NULL DEFAULT 'detected' CHECK (language_evidence IN ('declared', 'detected', 'uncertain')), -- declared (by the input), detected (confirmed on the text's prose words) or uncertain; only a declared or detected language other than the model's keeps an article from NER
    fetched_at      TIMESTAMP              -- when the page was fetched: the WARC record's date, or the fetch of a URL; NULL for files
);

CREATE TABLE IF NOT EXISTS story_signatures (
    article_id      VARCHAR PRIMARY KEY,   -- the article (articles.article_id)
    signature       BLOB NOT NULL          -- MinHash (128 x uint64) of the text's word 3-shingles
);

CREATE TABLE IF NOT EXISTS story_bands (
    band_key        BIGINT NOT NULL,       -- LSH band hash: articles sharing one are candidate copies
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    PRIMARY KEY (band_key, article_id)
);

CREATE TABLE IF NOT EXISTS mentions (
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    start_char      INTEGER NOT NULL CHECK (start_char >= 0), -- first character of the mention in articles.text (0-based)
    end_char        INTEGER NOT NULL,      -- one past its last character: text = articles.text[start_char:end_char]
    sentence_index  INTEGER NOT NULL CHECK (sentence_index >= 0), -- sentence of the article it stands in (sentences.sentence_index)
    text            VARCHAR NOT NULL,      -- articles.text[start_char:end_char]
    label           VARCHAR NOT NULL,      -- the model's own label for this mention
    entity_id       VARCHAR NOT NULL,      -- the entity, after corpus-wide resolution (entity_keys)
    key             VARCHAR NOT NULL,      -- canonical key within the article, e.g. 'person:kim jong un'
    name            VARCHAR NOT NULL,      -- display name of that key as this article names it
    model           VARCHAR NOT NULL,      -- spaCy pipeline name, e.g. 'en_core_web_sm'
    model_version   VARCHAR NOT NULL,      -- version of that pipeline
    run_id          VARCHAR NOT NULL,      -- run that added it
    rule            VARCHAR NOT NULL DEFAULT 'model' CHECK (rule IN ('model', 'article', 'corpus')), -- who found it: model (the pipeline), article (a later bare use of a name the model found in the article) or corpus (a form the model labels consistently across the corpus)
    PRIMARY KEY (article_id, model, start_char, end_char),
    CHECK (end_char > start_char)
);

CREATE TABLE IF NOT EXISTS sentences (
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    model           VARCHAR NOT NULL,      -- sentence boundaries come from the NER pipeline
    sentence_index  INTEGER NOT NULL,      -- 0-based position of the sentence in the article
    start_char      INTEGER NOT NULL,      -- offsets into articles.text
    end_char        INTEGER NOT NULL,      -- one past its last character
    PRIMARY KEY (article_id, model, sentence_index)
);

CREATE TABLE IF NOT EXISTS acronyms (
    article_id      VARCHAR NOT NULL,      -- the article that spells the acronym out
    acronym         VARCHAR NOT NULL,      -- folded tokens, e.g. 'kcna'
    key             VARCHAR NOT NULL,      -- key of the long name the article spells out
    PRIMARY KEY (article_id, acronym)
);

CREATE TABLE IF NOT EXISTS entity_keys (
    key             VARCHAR PRIMARY KEY,   -- every mentions.key
    entity_id       VARCHAR NOT NULL,      -- the entity it resolves to
    rule            VARCHAR NOT NULL CHECK (rule IN ('self', 'alias_file', 'gazetteer', 'demonym', 'acronym', 'descriptor', 'short_form', 'label', 'plural')), -- how: self, alias_file, gazetteer (another name of a country), demonym, acronym (or country code), descriptor ("Sprinter Kelly Holmes"), short_form, label (the same name under another label) or plural
    canonical_name  VARCHAR,               -- from the alias file, when it names the entity
    canonical_label VARCHAR                -- from the alias file, when it labels the entity
);

CREATE TABLE IF NOT EXISTS entities (
    entity_id       VARCHAR PRIMARY KEY,   -- the entity (entity_keys.entity_id)
    name            VARCHAR NOT NULL,      -- most frequent full surface form after canonicalisation
    label           VARCHAR NOT NULL,      -- majority label of its mentions
    n_mentions      INTEGER NOT NULL,      -- mentions of it, all sources and days
    n_articles      INTEGER NOT NULL,      -- articles mentioning it (its document frequency)
    n_stories       INTEGER NOT NULL,      -- distinct stories: near-duplicate copies count once
    n_sentences     INTEGER NOT NULL,      -- sentences mentioning it
    first_seen      TIMESTAMP,             -- earliest published_at of an article mentioning it
    last_seen       TIMESTAMP              -- latest published_at of an article mentioning it
);

CREATE TABLE IF NOT EXISTS entity_aliases (
    entity_id       VARCHAR NOT NULL,      -- the entity
    surface         VARCHAR NOT NULL,      -- a mention text as written
    label           VARCHAR NOT NULL,      -- the label the model gave it
    n_mentions      INTEGER NOT NULL,      -- mentions written this way
    n_articles      INTEGER NOT NULL,      -- articles with such a mention
    PRIMARY KEY (entity_id, surface, label)
);

CREATE TABLE IF NOT EXISTS entity_daily (
    day             DATE,                  -- NULL collects articles without a publication date
    entity_id       VARCHAR NOT NULL,      -- the entity
    source          VARCHAR,               -- articles.source (NULL when unknown)
    n_mentions      INTEGER NOT NULL,      -- mentions that day in that source
    n_articles      INTEGER NOT NULL,      -- articles that day in that source mentioning it
    n_stories       INTEGER NOT NULL       -- distinct stories among them (near-duplicates count once)
);

CREATE TABLE IF NOT EXISTS entity_weekly (
    week            DATE,                  -- Monday of the ISO week; NULL for undated articles
    entity_id       VARCHAR NOT NULL,      -- the entity
    source          VARCHAR,               -- articles.source (NULL when unknown)
    n_mentions      INTEGER NOT NULL,      -- mentions that week in that source
    n_articles      INTEGER NOT NULL,      -- articles that week in that source mentioning it
    n_stories       INTEGER NOT NULL       -- distinct stories among them
);

CREATE TABLE IF NOT EXISTS cooccurrence (
    entity_a        VARCHAR NOT NULL,      -- entity_a < entity_b: each pair once
    entity_b        VARCHAR NOT NULL,      -- the other entity of the pair
    n_articles      INTEGER NOT NULL,      -- articles mentioning both
    n_sentences     INTEGER NOT NULL,      -- sentences mentioning both
    -- (entity_a, entity_b) is unique by construction; no index: runs replace many pairs at once
    CHECK (entity_a < entity_b)
);

CREATE TABLE IF NOT EXISTS name_forms (
    model           VARCHAR NOT NULL,      -- the pipeline whose decisions are counted
    form            VARCHAR NOT NULL,      -- a name as written ("Sharetsky"), or a lowercase word
    label           VARCHAR NOT NULL,      -- the model's label; '' in articles where it never labelled the form; 'lowercase' for a lowercase word
    n_articles      INTEGER NOT NULL,      -- articles in which the model did so (mentions added by propagation not counted)
    PRIMARY KEY (model, form, label)
);

CREATE TABLE IF NOT EXISTS sources (
    source          VARCHAR PRIMARY KEY,   -- absolute file path or URL: the manifest of what was read
    kind            VARCHAR NOT NULL CHECK (kind IN ('file', 'url_list', 'url', 'page')), -- file, url_list (a text file of URLs, read again each run), url, or page (linked from a feed item)
    size            BIGINT,                -- files: bytes at the last read
    mtime_ns        BIGINT,                -- files: modification time at the last read, in ns
    read_to         BIGINT,                -- files: bytes read, to the end of the last whole record
    fingerprint     VARCHAR,               -- files: hash of the first and last 64 KiB before read_to
    etag            VARCHAR,               -- URLs: ETag of the copy read
    last_modified   VARCHAR,               -- URLs: Last-Modified of the copy read
    read_at         TIMESTAMP NOT NULL,    -- UTC time of the last read
    run_id          VARCHAR NOT NULL       -- run that read it last
);

CREATE TABLE IF NOT EXISTS rejects (
    reject_id       VARCHAR PRIMARY KEY,   -- hash of input and reason: a rerun adds no copy
    input_path      VARCHAR NOT NULL,      -- file or URL the input came from
    external_id     VARCHAR,               -- the item within it, when it has one (JSONL line, feed item, URL)
    reason          VARCHAR NOT NULL,      -- a code from tasks/reasons.py
    detail          VARCHAR NOT NULL,      -- human-readable explanation
    run_id          VARCHAR NOT NULL       -- run that first rejected it
);

CREATE TABLE IF NOT EXISTS runs (
    run_id          VARCHAR PRIMARY KEY,   -- the Prefect flow run id
    started_at      TIMESTAMP NOT NULL,    -- UTC start of the run
    finished_at     TIMESTAMP NOT NULL,    -- UTC time the commit began
    inputs          VARCHAR[] NOT NULL,    -- paths and URLs the run was given
    model           VARCHAR NOT NULL,      -- spaCy pipeline name the run used
    model_version   VARCHAR NOT NULL,      -- that pipeline's version
    n_inputs        INTEGER NOT NULL,      -- articles read, before de-duplication
    n_duplicates    INTEGER NOT NULL,      -- same text as another input of the run
    n_new_articles  INTEGER NOT NULL,      -- not in the warehouse before
    n_other_language INTEGER NOT NULL,     -- new articles kept but not sent to NER (language)
    n_mentions      INTEGER NOT NULL,      -- new mentions
    n_rejects       INTEGER NOT NULL,      -- rejects the run found (already stored ones included)
    stage_seconds   VARCHAR NOT NULL       -- JSON object: stage name -> seconds
);

CREATE TABLE IF NOT EXISTS places (
    geonameid       BIGINT PRIMARY KEY,    -- GeoNames id: https://www.geonames.org/<geonameid>
    name            VARCHAR NOT NULL,      -- GeoNames name, e.g. 'Kursk Oblast'
    feature_class   VARCHAR NOT NULL,      -- A (country or region), P (city, town, village), L (continent)
    feature_code    VARCHAR NOT NULL,      -- PCLI (country), ADM1 (first-level region), PPLC (capital), PPL (other populated place), CONT (continent)
    country_code    VARCHAR,               -- ISO 3166-1 alpha-2; NULL for continents
    region_code     VARCHAR,               -- GeoNames first-level region, '<country>.<code>', e.g. 'CA.01'
    region          VARCHAR,               -- that region's name, e.g. 'Alberta'
    lat             DOUBLE NOT NULL,       -- latitude, WGS84 (regions and countries: a central point)
    lon             DOUBLE NOT NULL,       -- longitude, WGS84
    population      BIGINT NOT NULL        -- GeoNames population (regions: the sum of their towns)
);

CREATE TABLE IF NOT EXISTS mention_places (
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    model           VARCHAR NOT NULL,      -- the pipeline whose mentions were placed (mentions.model)
    key             VARCHAR NOT NULL,      -- the name within the article (mentions.key): all its mentions share one place
    geonameid       BIGINT,                -- the place (places.geonameid); NULL when no place fits
    country_code    VARCHAR,               -- the place's country; for rule focus, the country the article puts it in
    rule            VARCHAR NOT NULL CHECK (rule IN ('qualifier', 'context', 'prior', 'demonym', 'focus', 'none')), -- how: qualifier (the text says where or what: "Paris, Texas", "the Kursk region"), context (the article's other places), prior (type and population alone), demonym ("Russian" -> Russia), focus (no place known; the country is the article's) or none
    score           DOUBLE NOT NULL,       -- margin of the chosen place over the runner-up (higher is surer; 0 unresolved)
    n_mentions      INTEGER NOT NULL,      -- mentions of the name in the article
    first_char      INTEGER NOT NULL,      -- offset of its first mention in articles.text
    PRIMARY KEY (article_id, model, key)
);

CREATE TABLE IF NOT EXISTS article_focus (
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    model           VARCHAR NOT NULL,      -- the pipeline whose mentions were placed
    country_code    VARCHAR NOT NULL,      -- the country most of its place mentions lie in
    geonameid       BIGINT,                -- its most mentioned place below country level in that country, if any
    PRIMARY KEY (article_id, model)
);

CREATE TABLE IF NOT EXISTS quotes (
    article_id      VARCHAR NOT NULL,      -- the article (articles.article_id)
    model           VARCHAR NOT NULL,      -- the pipeline whose mentions named the speaker
    start_char      INTEGER NOT NULL,      -- first character of the quote in articles.text (its quotation marks included)
    end_char        INTEGER NOT NULL,      -- one past its last: text = articles.text[start_char:end_char]
    text            VARCHAR NOT NULL,      -- articles.text[start_char:end_char]
    direct          BOOLEAN NOT NULL,      -- true: words between quotation marks that stand on their own; false: a quotation inside a clause, or reported speech
    rule            VARCHAR NOT NULL CHECK (rule IN ('after', 'before', 'split', 'continued', 'colon', 'transcript', 'unattributed', 'partial', 'indirect')), -- how it was found: after ("...," Kim said), before (He added that "..."), split ("A," he said, "B."), continued (a paragraph that goes on with the quote before), colon (a line ending in ":" names the speaker), transcript ("PENCE: ..."), unattributed, partial (a quotation inside a clause), indirect (X said that ...)
    cue             VARCHAR,               -- the reporting verb as written ("said", "added"), if any
    cue_start       INTEGER,               -- its offsets in articles.text
    cue_end         INTEGER,               -- one past the cue's last character
    speaker         VARCHAR,               -- the speaker as written ("Kim", "he", "the spokesman"), if any
    speaker_start   INTEGER,               -- its offsets in articles.text
    speaker_end     INTEGER,               -- one past the speaker's last character
    speaker_key     VARCHAR,               -- the speaker's mentions.key in the article ("he" -> the person named last), NULL when no entity is named
    tone            DOUBLE NOT NULL,       -- tone of the quoted words, -1 (negative) to 1 (positive)
    PRIMARY KEY (article_id, model, start_char)
);

CREATE TABLE IF NOT EXISTS mention_tones (
    article_id      VARCHAR NOT NULL,      -- the mention's article (mentions.article_id)
    model           VARCHAR NOT NULL,      -- the mention's pipeline (mentions.model)
    start_char      INTEGER NOT NULL,      -- the mention's first character (mentions.start_char)
    end_char        INTEGER NOT NULL,      -- one past its last (mentions.end_char)
    tone            DOUBLE NOT NULL,       -- tone toward the mention: its clause of the sentence, 0 when it is the speaker of a report; -1 to 1
    sentence_tone   DOUBLE NOT NULL,       -- tone of the whole sentence
    PRIMARY KEY (article_id, model, start_char, end_char)
);
