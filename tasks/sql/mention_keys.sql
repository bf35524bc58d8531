-- Every mention key with its number of mentions, and whether all its mentions are written in
-- capitals ("UN", "NATO", "U.S.").
SELECT key, count(*) AS n_mentions, bool_and(text = upper(text) AND text <> lower(text)) AS all_caps
FROM all_mentions
GROUP BY key
ORDER BY key
