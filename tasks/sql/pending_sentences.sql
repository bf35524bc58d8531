-- The sentences (of the model the aggregates count) of the chunk chosen by pending_articles.sql.
SELECT s.article_id, s.model, s.sentence_index, s.start_char, s.end_char
FROM sentences AS s
JOIN pending_articles USING (article_id)
WHERE s.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
ORDER BY s.article_id, s.sentence_index
