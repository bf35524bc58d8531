-- One row per entity: majority label and name, totals, first and last publication seen.
WITH
source AS (
    SELECT m.entity_id, m.name, m.label, m.article_id, a.story_id, a.published_at
    FROM all_mentions AS m
    JOIN all_articles AS a USING (article_id)
    WHERE m.model = $model
),

label_votes AS (
    SELECT entity_id, label, count(*) AS n
    FROM source
    GROUP BY entity_id, label
    -- ties go to the alphabetically first label, so the result never depends on row order
    QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY n DESC, label) = 1
),

name_votes AS (
    SELECT entity_id, name, count(*) AS n
    FROM source
    GROUP BY entity_id, name
    QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY n DESC, length(name) DESC, name) = 1
),

totals AS (
    SELECT
        entity_id,
        count(*) AS n_mentions,
        count(DISTINCT article_id) AS n_articles,
        count(DISTINCT story_id) AS n_stories,
        min(published_at) AS first_seen,
        max(published_at) AS last_seen
    FROM source
    GROUP BY entity_id
),

final AS (
    SELECT
        t.entity_id, n.name, l.label, t.n_mentions, t.n_articles, t.n_stories, t.first_seen,
        t.last_seen
    FROM totals AS t
    JOIN label_votes AS l USING (entity_id)
    JOIN name_votes AS n USING (entity_id)
)

SELECT * FROM final
ORDER BY n_mentions DESC, entity_id
