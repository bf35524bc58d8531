-- The entities that appear with one entity, strongest ties first.
-- e.g. SELECT * FROM cooccurring('person:kim jong un') LIMIT 10
CREATE OR REPLACE MACRO cooccurring(target) AS TABLE
WITH
pairs AS (
    SELECT
        CASE WHEN entity_a = target THEN entity_b ELSE entity_a END AS entity_id,
        n_articles, n_sentences, pmi, sentence_pmi
    FROM cooccurrence_scores
    WHERE entity_a = target OR entity_b = target
)

SELECT p.entity_id, e.name, e.label, p.n_articles, p.n_sentences, p.pmi, p.sentence_pmi
FROM pairs AS p
JOIN entities AS e USING (entity_id)
ORDER BY p.n_sentences DESC, p.n_articles DESC, p.pmi DESC, p.entity_id
