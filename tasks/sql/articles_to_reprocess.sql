-- NER input of stored articles a model has not processed yet (no sentences recorded for it),
-- a page at a time: ids above $after, at most $limit.
SELECT a.article_id, a.text, a.language, a.language_evidence
FROM articles AS a
WHERE a.article_id > $after AND NOT EXISTS (
    SELECT 1 FROM sentences AS s WHERE s.article_id = a.article_id AND s.model = $model
)
ORDER BY a.article_id
LIMIT $limit
