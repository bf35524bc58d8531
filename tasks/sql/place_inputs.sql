-- The next chunk of stored articles to place (migration 004): those with mentions of a place label
-- by the model the aggregates count and no placed name yet, in article_id order from above $after.
CREATE OR REPLACE TEMP TABLE place_input_articles AS
SELECT a.article_id, a.text
FROM articles AS a
WHERE a.article_id > $after
  AND EXISTS (
      SELECT 1 FROM mentions AS m
      WHERE m.article_id = a.article_id
        AND m.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
        AND m.label IN ('GPE', 'LOC', 'FAC', 'NORP', 'ORG', 'PRODUCT', 'WORK_OF_ART', 'EVENT')
  )
  AND NOT EXISTS (SELECT 1 FROM mention_places AS p WHERE p.article_id = a.article_id)
ORDER BY a.article_id
LIMIT $limit;
