-- Entity pairs (entity_a < entity_b) with the articles and sentences they share. Only pairs this
-- run changes are produced (the commit replaces exactly those):
--   recounted: pairs with a remapped entity, counted again over every article mentioning one;
--   added:     other pairs in the run's new articles, stored counts plus the new ones.
WITH
remapped AS (
    SELECT entity_id FROM remapped_entities
),

touched AS (
    SELECT DISTINCT article_id, sentence_index, entity_id
    FROM all_mentions
    WHERE model = $model AND article_id IN (
        SELECT article_id FROM all_mentions
        WHERE model = $model AND entity_id IN (SELECT entity_id FROM remapped)
    )
),

touched_articles AS (
    SELECT DISTINCT article_id, entity_id FROM touched
),

recounted_articles AS (
    -- each pair once per article: anchored on a remapped side
    SELECT least(a.entity_id, b.entity_id) AS entity_a, greatest(a.entity_id, b.entity_id) AS entity_b,
           count(*) AS n_articles
    FROM touched_articles AS a
    JOIN touched_articles AS b ON a.article_id = b.article_id AND a.entity_id <> b.entity_id
    WHERE a.entity_id IN (SELECT entity_id FROM remapped)
      AND (b.entity_id NOT IN (SELECT entity_id FROM remapped) OR a.entity_id < b.entity_id)
    GROUP BY ALL
),

recounted_sentences AS (
    SELECT least(a.entity_id, b.entity_id) AS entity_a, greatest(a.entity_id, b.entity_id) AS entity_b,
           count(*) AS n_sentences
    FROM touched AS a
    JOIN touched AS b
        ON a.article_id = b.article_id AND a.sentence_index = b.sentence_index
        AND a.entity_id <> b.entity_id
    WHERE a.entity_id IN (SELECT entity_id FROM remapped)
      AND (b.entity_id NOT IN (SELECT entity_id FROM remapped) OR a.entity_id < b.entity_id)
    GROUP BY ALL
),

recounted AS (
    SELECT p.entity_a, p.entity_b, p.n_articles, coalesce(s.n_sentences, 0) AS n_sentences
    FROM recounted_articles AS p
    LEFT JOIN recounted_sentences AS s USING (entity_a, entity_b)
),

fresh AS (
    SELECT DISTINCT article_id, sentence_index, entity_id
    FROM all_mentions
    WHERE model = $model
      AND article_id IN (SELECT article_id FROM fresh_article_ids)
      AND entity_id NOT IN (SELECT entity_id FROM remapped)
),

fresh_articles AS (
    SELECT DISTINCT article_id, entity_id FROM fresh
),

delta_articles AS (
    SELECT a.entity_id AS entity_a, b.entity_id AS entity_b, count(*) AS n_articles
    FROM fresh_articles AS a
    JOIN fresh_articles AS b ON a.article_id = b.article_id AND a.entity_id < b.entity_id
    GROUP BY ALL
),

delta_sentences AS (
    SELECT a.entity_id AS entity_a, b.entity_id AS entity_b, count(*) AS n_sentences
    FROM fresh AS a
    JOIN fresh AS b
        ON a.article_id = b.article_id AND a.sentence_index = b.sentence_index
        AND a.entity_id < b.entity_id
    GROUP BY ALL
),

added AS (
    SELECT
        d.entity_a, d.entity_b,
        d.n_articles + coalesce(c.n_articles, 0) AS n_articles,
        coalesce(s.n_sentences, 0) + coalesce(c.n_sentences, 0) AS n_sentences
    FROM delta_articles AS d
    LEFT JOIN delta_sentences AS s USING (entity_a, entity_b)
    LEFT JOIN cooccurrence AS c USING (entity_a, entity_b)
),

final AS (
    SELECT * FROM recounted
    UNION ALL
    SELECT * FROM added
)

SELECT * FROM final
ORDER BY n_articles DESC, n_sentences DESC, entity_a, entity_b
