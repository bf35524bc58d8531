-- Entities ranked by mentions within each label and UTC month.
-- e.g. SELECT * FROM top_entities WHERE month = DATE '2025-10-01' AND label = 'PERSON' AND rank <= 10
-- n_stories is summed over days and sources: a story republished on another day counts again.
CREATE OR REPLACE VIEW top_entities AS
WITH
monthly AS (
    SELECT
        CAST(date_trunc('month', day) AS DATE) AS month,
        entity_id,
        CAST(sum(n_mentions) AS BIGINT) AS n_mentions,
        CAST(sum(n_articles) AS BIGINT) AS n_articles,
        CAST(sum(n_stories) AS BIGINT) AS n_stories
    FROM entity_daily
    WHERE day IS NOT NULL
    GROUP BY ALL
),

final AS (
    SELECT
        m.month, e.label, e.name, m.entity_id, m.n_mentions, m.n_articles, m.n_stories,
        rank() OVER (PARTITION BY m.month, e.label ORDER BY m.n_mentions DESC) AS rank
    FROM monthly AS m
    JOIN entities AS e USING (entity_id)
)

SELECT * FROM final
