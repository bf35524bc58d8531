-- What stored articles chose, with evidence, for the names a part brings (registered as wanted).
SELECT mp.key, mp.geonameid, count(*) AS n_articles
FROM mention_places AS mp
JOIN wanted USING (key)
WHERE mp.geonameid IS NOT NULL AND list_contains($rules, mp.rule)
GROUP BY ALL
