-- Add the run's form counts (registered as `incoming`) to the stored ones; returns rows touched.
INSERT INTO name_forms BY NAME
SELECT * FROM incoming
ON CONFLICT (model, form, label) DO UPDATE SET n_articles = name_forms.n_articles + excluded.n_articles
