-- How the model labelled each wanted form (registered as `wanted`), over the stored articles and
-- the ones the run staged.
WITH
counted AS (
    SELECT form, label, n_articles FROM name_forms WHERE model = $model
    UNION ALL
    SELECT form, label, n_articles FROM staged_name_forms WHERE model = $model
)

SELECT form, label, CAST(sum(n_articles) AS INTEGER) AS n_articles
FROM counted JOIN wanted USING (form)
GROUP BY ALL
ORDER BY ALL
