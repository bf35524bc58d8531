-- Every mention with the sentence it stands in, so each number can be read back as text.
-- e.g. SELECT published_at, source, sentence FROM mention_context WHERE entity_id = 'place:russia'
CREATE OR REPLACE VIEW mention_context AS
SELECT
    m.entity_id, e.name, m.label, m.text, m.article_id, m.start_char, m.end_char,
    m.sentence_index,
    substr(a.text, s.start_char + 1, s.end_char - s.start_char) AS sentence,
    a.title, a.source, a.published_at, a.url, m.model
FROM mentions AS m
JOIN articles AS a USING (article_id)
LEFT JOIN sentences AS s
    ON s.article_id = m.article_id AND s.model = m.model AND s.sentence_index = m.sentence_index
LEFT JOIN entities AS e USING (entity_id)
