-- Migration 003: the manifest of what was read (sources), and when a page was fetched.
-- Stored articles came from files or from fetches whose time was not kept: fetched_at is NULL.
ALTER TABLE articles ADD COLUMN fetched_at TIMESTAMP;
CREATE TABLE sources (
    source          VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL CHECK (kind IN ('file', 'url_list', 'url', 'page')),
    size            BIGINT,
    mtime_ns        BIGINT,
    read_to         BIGINT,
    fingerprint     VARCHAR,
    etag            VARCHAR,
    last_modified   VARCHAR,
    read_at         TIMESTAMP NOT NULL,
    run_id          VARCHAR NOT NULL
);
