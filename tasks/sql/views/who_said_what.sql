-- Every quote with its speaker's entity (NULL when the speaker is a description or unnamed), the
-- article and its date, for the pipeline whose mentions the aggregates count.
-- e.g. SELECT published_at, speaker_name, quote FROM who_said_what WHERE speaker_id = 'person:kim jong un'
CREATE OR REPLACE VIEW who_said_what AS
SELECT
    q.article_id, a.published_at, a.source, a.title,
    k.entity_id AS speaker_id, e.name AS speaker_name, e.label AS speaker_label, q.speaker, q.cue,
    q.text AS quote,
    q.direct, q.rule, q.tone, q.start_char, q.end_char
FROM quotes AS q
JOIN articles AS a USING (article_id)
LEFT JOIN entity_keys AS k ON k.key = q.speaker_key
LEFT JOIN entities AS e ON e.entity_id = k.entity_id
WHERE q.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
