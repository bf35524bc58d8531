-- Migration 005: quotes with their speakers, and the tone toward each mention.
-- Stored articles get theirs on the next run: speech_pending asks the quotes stage to fill them.
CREATE TABLE quotes (
    article_id      VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    text            VARCHAR NOT NULL,
    direct          BOOLEAN NOT NULL,
    rule            VARCHAR NOT NULL CHECK (rule IN ('after', 'before', 'split', 'continued', 'colon', 'transcript', 'unattributed', 'partial', 'indirect')),
    cue             VARCHAR,
    cue_start       INTEGER,
    cue_end         INTEGER,
    speaker         VARCHAR,
    speaker_start   INTEGER,
    speaker_end     INTEGER,
    speaker_key     VARCHAR,
    tone            DOUBLE NOT NULL,
    PRIMARY KEY (article_id, model, start_char)
);
CREATE TABLE mention_tones (
    article_id      VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    tone            DOUBLE NOT NULL,
    sentence_tone   DOUBLE NOT NULL,
    PRIMARY KEY (article_id, model, start_char, end_char)
);
INSERT INTO meta SELECT 'speech_pending', '1' WHERE EXISTS (SELECT 1 FROM mentions);
