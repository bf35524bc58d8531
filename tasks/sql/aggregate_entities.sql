-- One row per entity of the run's dirty_entities: name and label from the alias file or else its
-- mentions, totals, and the first and last publication that mention it.
WITH
source AS (
    SELECT
        m.entity_id, m.key, m.name, m.label, m.article_id, m.sentence_index, a.story_id,
        a.published_at,
        -- a full form names the entity; an acronym, code, demonym, descriptor or short name
        -- does not (tasks/resolve.py: SHORT_RULES)
        coalesce(k.rule, 'self') IN ('self', 'alias_file', 'gazetteer', 'label', 'plural')
            AS full_form
    FROM all_mentions AS m
    JOIN all_articles AS a USING (article_id)
    LEFT JOIN all_entity_keys AS k USING (key)
    WHERE m.model = $model AND m.entity_id IN (SELECT entity_id FROM dirty_entities)
),

canonical AS (
    SELECT DISTINCT entity_id, canonical_name, canonical_label
    FROM all_entity_keys
    WHERE canonical_name IS NOT NULL
),

label_votes AS (
    -- the majority label of its full forms ("Russia" GPE, not the NORP of "Russian"); ties go
    -- to the alphabetically first label, so the result never depends on row order
    SELECT entity_id, label, count(*) FILTER (WHERE full_form) AS n_full, count(*) AS n
    FROM source
    GROUP BY entity_id, label
    QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY n_full DESC, n DESC, label) = 1
),

name_votes AS (
    -- the most frequent full form ("European Union" over "EU", "Volodymyr Zelensky" over
    -- "Zelensky"), mixed case before ALL-CAPS headline forms
    SELECT entity_id, name, bool_or(full_form) AS is_full, count(*) AS n
    FROM source
    GROUP BY entity_id, name
    QUALIFY row_number() OVER (
        PARTITION BY entity_id
        ORDER BY is_full DESC, (name = upper(name) AND length(name) > 5), n DESC,
                 length(name) DESC, name
    ) = 1
),

totals AS (
    SELECT
        entity_id,
        count(*) AS n_mentions,
        count(DISTINCT article_id) AS n_articles,
        count(DISTINCT story_id) AS n_stories,
        count(DISTINCT (article_id, sentence_index)) AS n_sentences,
        min(published_at) AS first_seen,
        max(published_at) AS last_seen
    FROM source
    GROUP BY entity_id
),

final AS (
    SELECT
        t.entity_id,
        coalesce(c.canonical_name, n.name) AS name,
        coalesce(c.canonical_label, l.label) AS label,
        t.n_mentions, t.n_articles, t.n_stories, t.n_sentences, t.first_seen, t.last_seen
    FROM totals AS t
    JOIN label_votes AS l USING (entity_id)
    JOIN name_votes AS n USING (entity_id)
    LEFT JOIN canonical AS c USING (entity_id)
)

SELECT * FROM final
ORDER BY n_mentions DESC, entity_id
