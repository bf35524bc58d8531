-- Point every mention at the entity its key resolves to now; returns the number of changed rows.
UPDATE mentions
SET entity_id = k.entity_id
FROM entity_keys AS k
WHERE mentions.key = k.key AND mentions.entity_id <> k.entity_id
