-- The most mentioned entities, optionally of one label. Parameters: $label (or NULL), $limit.
SELECT name, label, n_mentions, n_articles, entity_id
FROM entities
WHERE CAST($label AS VARCHAR) IS NULL OR label = $label
ORDER BY n_mentions DESC, n_articles DESC, name
LIMIT $limit
