-- Entity pairs (entity_a < entity_b) with the articles and sentences they share, and their
-- pointwise mutual information, so rare but tied pairs can be ranked above merely frequent ones.
WITH
source AS (
    SELECT DISTINCT article_id, sentence_index, entity_id
    FROM all_mentions
    WHERE model = $model
),

article_entities AS (
    SELECT DISTINCT article_id, entity_id FROM source
),

totals AS (
    SELECT
        (SELECT count(DISTINCT article_id) FROM source) AS n_articles,
        (SELECT count(*) FROM (SELECT DISTINCT article_id, sentence_index FROM source)) AS n_sentences
),

entity_counts AS (
    SELECT entity_id, count(DISTINCT article_id) AS n_articles,
           count(DISTINCT (article_id, sentence_index)) AS n_sentences
    FROM source
    GROUP BY entity_id
),

article_pairs AS (
    SELECT a.entity_id AS entity_a, b.entity_id AS entity_b, count(*) AS n_articles
    FROM article_entities AS a
    JOIN article_entities AS b
        ON a.article_id = b.article_id AND a.entity_id < b.entity_id
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
    SELECT
        p.entity_a, p.entity_b, p.n_articles,
        coalesce(s.n_sentences, 0) AS n_sentences,
        log2(p.n_articles * t.n_articles / (ca.n_articles * cb.n_articles)) AS pmi,
        CASE WHEN s.n_sentences > 0
            THEN log2(s.n_sentences * t.n_sentences / (ca.n_sentences * cb.n_sentences))
        END AS sentence_pmi
    FROM article_pairs AS p
    LEFT JOIN sentence_pairs AS s USING (entity_a, entity_b)
    JOIN entity_counts AS ca ON ca.entity_id = p.entity_a
    JOIN entity_counts AS cb ON cb.entity_id = p.entity_b
    CROSS JOIN totals AS t
)

SELECT * FROM final
ORDER BY n_articles DESC, n_sentences DESC, entity_a, entity_b
