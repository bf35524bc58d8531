-- The mentions (by the model the aggregates count) of the chunk chosen by pending_articles.sql.
SELECT m.article_id, m.model, m.key, m.text, m.label, m.start_char, m.end_char, m.sentence_index
FROM mentions AS m
JOIN pending_articles USING (article_id)
WHERE m.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
  AND ($labels IS NULL OR list_contains($labels, m.label))
ORDER BY m.article_id, m.start_char
