-- One row per entity and UTC day it was mentioned, all sources together.
-- e.g. SELECT day, n_mentions FROM entity_timeline WHERE entity_id = 'person:kim jong un' ORDER BY day
CREATE OR REPLACE VIEW entity_timeline AS
WITH
daily AS (
    SELECT
        day, entity_id,
        CAST(sum(n_mentions) AS BIGINT) AS n_mentions,
        CAST(sum(n_articles) AS BIGINT) AS n_articles,
        CAST(sum(n_stories) AS BIGINT) AS n_stories,
        count(DISTINCT source) AS n_sources
    FROM entity_daily
    WHERE day IS NOT NULL
    GROUP BY ALL
),

final AS (
    SELECT d.day, d.entity_id, e.name, e.label, d.n_mentions, d.n_articles, d.n_stories, d.n_sources
    FROM daily AS d
    JOIN entities AS e USING (entity_id)
)

SELECT * FROM final
