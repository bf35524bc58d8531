-- Every place an article names (one row per name in the article), with the article's focus country
-- and place, for the pipeline whose mentions the aggregates count.
-- e.g. SELECT DISTINCT article_id, title FROM article_places
--      WHERE focus_country = 'UA' AND place_name = 'Pyongyang'
CREATE OR REPLACE VIEW article_places AS
SELECT
    mp.article_id, a.published_at, a.source, a.title,
    mp.key, mp.geonameid, p.name AS place_name, p.feature_code, mp.country_code, c.name AS country,
    p.region, p.lat, p.lon, mp.rule, mp.score, mp.n_mentions,
    f.country_code AS focus_country, f.geonameid AS focus_geonameid, fp.name AS focus_place
FROM mention_places AS mp
JOIN articles AS a USING (article_id)
LEFT JOIN places AS p USING (geonameid)
LEFT JOIN places AS c ON c.feature_code = 'PCLI' AND c.country_code = mp.country_code
LEFT JOIN article_focus AS f ON f.article_id = mp.article_id AND f.model = mp.model
LEFT JOIN places AS fp ON fp.geonameid = f.geonameid
WHERE mp.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
