-- Who rose: the entities of the latest day furthest above their 28-day baseline.
SELECT day, name, label, n_mentions, baseline_mean, z_score
FROM trending
WHERE day = (SELECT max(day) FROM trending)
ORDER BY z_score DESC, name
LIMIT 10;
