-- The aggregates held another model's counts: every entity is recounted for this one
-- (dirty_entities is then set to these too).
CREATE OR REPLACE TEMP TABLE remapped_entities AS
SELECT entity_id FROM entities
UNION
SELECT entity_id FROM all_mentions WHERE model = $model
