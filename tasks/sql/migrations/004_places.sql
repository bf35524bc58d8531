-- Migration 004: places (GeoNames), the place of each name in an article, each article's focus.
-- Stored articles get theirs on the next run: places_pending asks the place stage to fill them.
CREATE TABLE places (
    geonameid       BIGINT PRIMARY KEY,
    name            VARCHAR NOT NULL,
    feature_class   VARCHAR NOT NULL,
    feature_code    VARCHAR NOT NULL,
    country_code    VARCHAR,
    region_code     VARCHAR,
    region          VARCHAR,
    lat             DOUBLE NOT NULL,
    lon             DOUBLE NOT NULL,
    population      BIGINT NOT NULL
);
CREATE TABLE mention_places (
    article_id      VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    key             VARCHAR NOT NULL,
    geonameid       BIGINT,
    country_code    VARCHAR,
    rule            VARCHAR NOT NULL CHECK (rule IN ('qualifier', 'context', 'prior', 'demonym', 'focus', 'none')),
    score           DOUBLE NOT NULL,
    n_mentions      INTEGER NOT NULL,
    first_char      INTEGER NOT NULL,
    PRIMARY KEY (article_id, model, key)
);
CREATE TABLE article_focus (
    article_id      VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    country_code    VARCHAR NOT NULL,
    geonameid       BIGINT,
    PRIMARY KEY (article_id, model)
);
INSERT INTO meta SELECT 'places_pending', '1' WHERE EXISTS (SELECT 1 FROM mentions);
