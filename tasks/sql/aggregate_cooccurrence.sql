-- Entity pairs (entity_a < entity_b) with the articles and sentences they share, for every pair
-- that involves one of the run's dirty_entities (the commit replaces exactly those pairs).
WITH
touched_articles AS (
    SELECT DISTINCT article_id
    FROM all_mentions
    WHERE model = $model AND entity_id IN (SELECT entity_id FROM dirty_entities)
),

source AS (
    SELECT DISTINCT article_id, sentence_index, entity_id
    FROM all_mentions
    WHERE model = $model AND article_id IN (SELECT article_id FROM touched_articles)
),

article_entities AS (
    SELECT DISTINCT article_id, entity_id FROM source
),

article_pairs AS (
    SELECT a.entity_id AS entity_a, b.entity_id AS entity_b, count(*) AS n_articles
    FROM article_entities AS a
    JOIN article_entities AS b
        ON a.article_id = b.article_id AND a.entity_id < b.entity_id
    WHERE a.entity_id IN (SELECT entity_id FROM dirty_entities)
       OR b.entity_id IN (SELECT entity_id FROM dirty_entities)
    GROUP BY ALL
),

sentence_pairs AS (
    SELECT a.entity_id AS entity_a, b.entity_id AS entity_b, count(*) AS n_sentences
    FROM source AS a
    JOIN source AS b
        ON a.article_id = b.article_id
        AND a.sentence_index = b.sentence_index
        AND a.entity_id < b.entity_id
    GROUP BY ALL
),

final AS (
    SELECT p.entity_a, p.entity_b, p.n_articles, coalesce(s.n_sentences, 0) AS n_sentences
    FROM article_pairs AS p
    LEFT JOIN sentence_pairs AS s USING (entity_a, entity_b)
)

SELECT * FROM final
ORDER BY n_articles DESC, n_sentences DESC, entity_a, entity_b
