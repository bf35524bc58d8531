-- Every mention key with its number of mentions, and whether it is written in capitals ("UN",
-- "NATO", "U.S."): at least $caps_share of its mentions, so one title-cased headline does not count.
SELECT key, count(*) AS n_mentions,
       avg(CASE WHEN text = upper(text) AND text <> lower(text) THEN 1 ELSE 0 END) >= $caps_share AS all_caps
FROM all_mentions
GROUP BY key
ORDER BY key
