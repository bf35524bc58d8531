-- Tone toward each entity per UTC day: the average over its mentions (each scored on its clause of
-- the sentence), with the counts of positive (>= 0.05) and negative (<= -0.05) mentions.
-- e.g. SELECT day, tone, n_negative FROM entity_tone WHERE entity_id = 'person:vladimir putin' ORDER BY day
CREATE OR REPLACE VIEW entity_tone AS
SELECT
    CAST(a.published_at AS DATE) AS day, m.entity_id, any_value(e.name) AS name,
    count(*) AS n_mentions, round(avg(t.tone), 4) AS tone,
    count(*) FILTER (WHERE t.tone >= 0.05) AS n_positive,
    count(*) FILTER (WHERE t.tone <= -0.05) AS n_negative,
    round(avg(t.sentence_tone), 4) AS sentence_tone
FROM mention_tones AS t
JOIN mentions AS m USING (article_id, model, start_char, end_char)
JOIN articles AS a USING (article_id)
LEFT JOIN entities AS e ON e.entity_id = m.entity_id
WHERE t.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
GROUP BY ALL
