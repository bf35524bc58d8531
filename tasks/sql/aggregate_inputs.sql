-- Stored rows plus the rows the current run staged (registered as new_<table>). Mentions take
-- their entity from the run's staged resolution (new_entity_keys) when there is one.
CREATE OR REPLACE TEMP VIEW all_articles AS
SELECT * FROM articles
UNION ALL BY NAME
SELECT * FROM new_articles
WHERE article_id NOT IN (SELECT article_id FROM articles);

CREATE OR REPLACE TEMP VIEW all_acronyms AS
SELECT * FROM acronyms
UNION ALL BY NAME
SELECT * FROM new_acronyms
WHERE article_id NOT IN (SELECT article_id FROM acronyms);

CREATE OR REPLACE TEMP VIEW all_entity_keys AS
SELECT * FROM new_entity_keys;

CREATE OR REPLACE TEMP VIEW all_mentions AS
WITH
stored_and_new AS (
    SELECT * FROM mentions
    UNION ALL BY NAME
    SELECT n.* FROM new_mentions AS n
    WHERE NOT EXISTS (
        SELECT 1 FROM mentions AS m
        WHERE m.article_id = n.article_id AND m.model = n.model
          AND m.start_char = n.start_char AND m.end_char = n.end_char
    )
)

SELECT m.* REPLACE (coalesce(k.entity_id, m.entity_id) AS entity_id)
FROM stored_and_new AS m
LEFT JOIN new_entity_keys AS k USING (key);

-- Articles whose mentions (of a model) this run adds for the first time.
CREATE OR REPLACE TEMP TABLE fresh_article_ids AS
SELECT DISTINCT n.article_id
FROM new_mentions AS n
WHERE NOT EXISTS (
    SELECT 1 FROM mentions AS m WHERE m.article_id = n.article_id AND m.model = n.model
);

-- Entities on either side of a key whose resolution changed (every key is new on a first run):
-- their rows are recounted from all their mentions.
CREATE OR REPLACE TEMP TABLE remapped_entities AS
SELECT DISTINCT entity_id FROM (
    SELECT k.entity_id
    FROM new_entity_keys AS k
    LEFT JOIN entity_keys AS o USING (key)
    WHERE o.entity_id IS DISTINCT FROM k.entity_id
    UNION ALL
    SELECT o.entity_id
    FROM entity_keys AS o
    LEFT JOIN new_entity_keys AS k USING (key)
    WHERE k.entity_id IS DISTINCT FROM o.entity_id
);

-- Entities whose aggregate rows this run may change: the remapped ones and those of new mentions.
-- Only their rows are recomputed and replaced.
CREATE OR REPLACE TEMP TABLE dirty_entities AS
SELECT entity_id FROM remapped_entities
UNION
SELECT k.entity_id
FROM new_mentions AS n
JOIN new_entity_keys AS k USING (key);
