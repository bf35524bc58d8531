-- Report: the most mentioned entities.
SELECT name, label, n_mentions
FROM entities
ORDER BY n_mentions DESC, name
LIMIT $limit
