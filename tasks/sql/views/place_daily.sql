-- Mentions of each place per UTC day and source. A name that resolved only to a country (rule
-- focus) counts for its country with geonameid NULL; sum by country_code for country figures.
-- e.g. SELECT country_code, sum(n_mentions) FROM place_daily WHERE day >= DATE '2025-10-20' GROUP BY 1
CREATE OR REPLACE VIEW place_daily AS
SELECT
    CAST(a.published_at AS DATE) AS day, a.source, mp.country_code, mp.geonameid,
    any_value(p.name) AS place_name, any_value(p.feature_code) AS feature_code,
    CAST(sum(mp.n_mentions) AS BIGINT) AS n_mentions,
    count(DISTINCT mp.article_id) AS n_articles
FROM mention_places AS mp
JOIN articles AS a USING (article_id)
LEFT JOIN places AS p USING (geonameid)
WHERE mp.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
  AND (mp.country_code IS NOT NULL OR mp.geonameid IS NOT NULL)
GROUP BY ALL
