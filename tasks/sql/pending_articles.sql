-- The next chunk of stored articles a stage has not done yet (after the migration that added it):
-- those with mentions by the model the aggregates count and no row in the stage's table
-- ({done}), in article_id order from above $after.
CREATE OR REPLACE TEMP TABLE pending_articles AS
SELECT a.article_id, a.text
FROM articles AS a
WHERE a.article_id > $after
  AND EXISTS (
      SELECT 1 FROM mentions AS m
      WHERE m.article_id = a.article_id
        AND m.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
        AND ($labels IS NULL OR list_contains($labels, m.label))
  )
  AND NOT EXISTS (SELECT 1 FROM {done} AS d WHERE d.article_id = a.article_id)
ORDER BY a.article_id
LIMIT $limit;
