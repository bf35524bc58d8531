-- Run report: the entities furthest above their baseline on the latest day with enough support.
SELECT name, label, n_mentions, baseline_mean, z_score
FROM trending
WHERE day = (SELECT max(day) FROM trending)
ORDER BY z_score DESC, name
LIMIT $limit
