-- Stored articles sharing an LSH band with the new ones (registered as `wanted`).
WITH
candidates AS (
    SELECT DISTINCT b.article_id
    FROM story_bands AS b
    JOIN wanted AS w USING (band_key)
),

final AS (
    SELECT a.article_id, a.story_id, s.signature
    FROM candidates AS c
    JOIN articles AS a USING (article_id)
    JOIN story_signatures AS s USING (article_id)
)

SELECT * FROM final
ORDER BY article_id
