-- Mentions, articles and stories per entity, per ISO week (Monday, UTC), per source.
WITH
source AS (
    SELECT
        CAST(date_trunc('week', a.published_at) AS DATE) AS week,
        m.entity_id, a.source, m.article_id, a.story_id
    FROM all_mentions AS m
    JOIN all_articles AS a USING (article_id)
    WHERE m.model = $model AND m.entity_id IN (SELECT entity_id FROM dirty_entities)
),

final AS (
    SELECT
        week, entity_id, source,
        count(*) AS n_mentions,
        count(DISTINCT article_id) AS n_articles,
        count(DISTINCT story_id) AS n_stories
    FROM source
    GROUP BY week, entity_id, source
)

SELECT * FROM final
ORDER BY week NULLS LAST, entity_id, source NULLS LAST
