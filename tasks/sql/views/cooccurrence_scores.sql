-- Every co-occurring pair with both names and its pointwise mutual information,
-- log2 P(a,b) / (P(a) P(b)), over articles (pmi) and over sentences (sentence_pmi, NULL when the
-- two never share a sentence): rare but tied pairs rank above merely frequent ones.
CREATE OR REPLACE VIEW cooccurrence_scores AS
WITH
totals AS (
    SELECT
        (SELECT count(*) FROM articles) AS n_articles,
        (SELECT count(*) FROM sentences) AS n_sentences
),

final AS (
    SELECT
        c.entity_a, a.name AS name_a, c.entity_b, b.name AS name_b, c.n_articles, c.n_sentences,
        log2(c.n_articles * t.n_articles / (a.n_articles * b.n_articles)) AS pmi,
        CASE WHEN c.n_sentences > 0 AND a.n_sentences > 0 AND b.n_sentences > 0
            THEN log2(c.n_sentences * t.n_sentences / (a.n_sentences * b.n_sentences))
        END AS sentence_pmi
    FROM cooccurrence AS c
    JOIN entities AS a ON a.entity_id = c.entity_a
    JOIN entities AS b ON b.entity_id = c.entity_b
    CROSS JOIN totals AS t
)

SELECT * FROM final
