-- Mentions, articles and stories per entity, per ISO week (Monday, UTC), per source, for the groups
-- this run changes: every group of a remapped entity, and the (week, source) groups of the run's
-- new articles for the other entities they mention (the commit replaces exactly those groups).
WITH
fresh_groups AS (
    SELECT DISTINCT CAST(date_trunc('week', published_at) AS DATE) AS week, source
    FROM all_articles
    WHERE article_id IN (SELECT article_id FROM fresh_article_ids)
),

mentioned AS (
    SELECT CAST(date_trunc('week', a.published_at) AS DATE) AS week, m.entity_id, a.source, m.article_id, a.story_id
    FROM all_mentions AS m
    JOIN all_articles AS a USING (article_id)
    WHERE m.model = $model
),

source AS (
    SELECT * FROM mentioned
    WHERE entity_id IN (SELECT entity_id FROM remapped_entities)
    UNION ALL
    SELECT m.* FROM mentioned AS m
    JOIN fresh_groups AS g
        ON g.week IS NOT DISTINCT FROM m.week AND g.source IS NOT DISTINCT FROM m.source
    WHERE m.entity_id IN (SELECT entity_id FROM dirty_entities)
      AND m.entity_id NOT IN (SELECT entity_id FROM remapped_entities)
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
