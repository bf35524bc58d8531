-- Report: mentions per country in the reporting period (the 30 days up to the latest dated article;
-- every article when none has a date), for the map. Demonyms and country-only names count too.
WITH
latest AS (SELECT max(published_at) AS last FROM articles),

period AS (
    SELECT mp.*
    FROM mention_places AS mp
    JOIN articles AS a USING (article_id)
    WHERE mp.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
      AND ((SELECT last FROM latest) IS NULL
           OR a.published_at > (SELECT last FROM latest) - INTERVAL 30 DAY)
)

SELECT
    p.country_code, any_value(c.name) AS country,
    CAST(sum(p.n_mentions) AS BIGINT) AS n_mentions,
    min(CAST(a.published_at AS DATE)) AS first_day, max(CAST(a.published_at AS DATE)) AS last_day
FROM period AS p
JOIN articles AS a USING (article_id)
LEFT JOIN places AS c ON c.feature_code = 'PCLI' AND c.country_code = p.country_code
WHERE p.country_code IS NOT NULL
GROUP BY p.country_code
ORDER BY n_mentions DESC, p.country_code
