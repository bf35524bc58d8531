-- Every surface form of every entity, so a merge can be read and undone (via the alias file).
WITH
source AS (
    SELECT entity_id, text AS surface, label, article_id
    FROM all_mentions
    WHERE model = $model AND entity_id IN (SELECT entity_id FROM dirty_entities)
),

final AS (
    SELECT entity_id, surface, label, count(*) AS n_mentions, count(DISTINCT article_id) AS n_articles
    FROM source
    GROUP BY entity_id, surface, label
)

SELECT * FROM final
ORDER BY entity_id, n_mentions DESC, surface, label
