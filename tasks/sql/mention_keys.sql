-- Every mention key, and whether all its mentions are written in capitals ("UN", "NATO").
SELECT key, bool_and(text = upper(text) AND text <> lower(text)) AS all_caps
FROM all_mentions
GROUP BY key
ORDER BY key
