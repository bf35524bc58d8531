-- Report: the most mentioned places below country level (cities, regions) in the reporting period
-- (as report_map_countries.sql), with their coordinates, for the map.
WITH
latest AS (SELECT max(published_at) AS last FROM articles)

SELECT p.name, p.country_code, p.lat, p.lon, CAST(sum(mp.n_mentions) AS BIGINT) AS n_mentions
FROM mention_places AS mp
JOIN articles AS a USING (article_id)
JOIN places AS p USING (geonameid)
WHERE mp.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
  AND p.feature_code NOT IN ('PCLI', 'CONT')
  AND ((SELECT last FROM latest) IS NULL
       OR a.published_at > (SELECT last FROM latest) - INTERVAL 30 DAY)
GROUP BY ALL
ORDER BY n_mentions DESC, p.name
LIMIT $limit
