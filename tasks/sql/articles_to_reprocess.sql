-- Stored articles a model has not processed yet (no sentences recorded for it).
SELECT a.*
FROM articles AS a
WHERE NOT EXISTS (
    SELECT 1 FROM sentences AS s WHERE s.article_id = a.article_id AND s.model = $model
)
ORDER BY a.article_id
