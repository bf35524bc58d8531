-- Add the run's form counts (staged as `incoming`, one row per chunk) to the stored ones; returns
-- the rows touched.
INSERT INTO name_forms BY NAME
SELECT model, form, label, sum(n_articles) AS n_articles
FROM incoming
GROUP BY ALL
ON CONFLICT (model, form, label) DO UPDATE SET n_articles = name_forms.n_articles + excluded.n_articles
