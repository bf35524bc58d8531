-- Migration 002: how sure an article's language is, who found each mention, more resolution rules.
-- Articles stored before were routed on the detector's answer alone: their evidence is "detected".
ALTER TABLE articles ADD COLUMN language_evidence VARCHAR DEFAULT 'detected';
ALTER TABLE articles ALTER COLUMN language_evidence SET NOT NULL;
-- Every stored mention came from the pipeline itself.
ALTER TABLE mentions ADD COLUMN rule VARCHAR DEFAULT 'model';
ALTER TABLE mentions ALTER COLUMN rule SET NOT NULL;
-- entity_keys is rebuilt on every run; the new table allows the new rules.
CREATE TABLE entity_keys_002 (
    key             VARCHAR PRIMARY KEY,
    entity_id       VARCHAR NOT NULL,
    rule            VARCHAR NOT NULL CHECK (rule IN ('self', 'alias_file', 'gazetteer', 'demonym', 'acronym', 'descriptor', 'short_form', 'label', 'plural')),
    canonical_name  VARCHAR,
    canonical_label VARCHAR
);
INSERT INTO entity_keys_002 SELECT * FROM entity_keys;
DROP TABLE entity_keys;
ALTER TABLE entity_keys_002 RENAME TO entity_keys;
-- The corpus's counts of how the model labels each form, for propagation; they start empty.
CREATE TABLE name_forms (
    model           VARCHAR NOT NULL,
    form            VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    n_articles      INTEGER NOT NULL,
    PRIMARY KEY (model, form, label)
);
