-- Stored and staged articles sharing an LSH band with the new ones (registered as `wanted`).
WITH
bands AS (
    SELECT band_key, article_id FROM story_bands
    UNION ALL
    SELECT band_key, article_id FROM staged_story_bands
),

candidates AS (
    SELECT DISTINCT b.article_id
    FROM bands AS b
    JOIN wanted AS w USING (band_key)
),

signed AS (
    SELECT a.article_id, a.story_id, s.signature
    FROM articles AS a JOIN story_signatures AS s USING (article_id)
    UNION ALL
    SELECT a.article_id, a.story_id, s.signature
    FROM staged_articles AS a JOIN staged_story_signatures AS s USING (article_id)
),

final AS (
    SELECT s.*
    FROM candidates AS c
    JOIN signed AS s USING (article_id)
)

SELECT * FROM final
ORDER BY article_id
