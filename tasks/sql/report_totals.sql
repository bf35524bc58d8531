-- Report: headline counts. "other language" counts the stored articles the aggregated model
-- never processed (kept for their language, not sent to NER).
SELECT
    (SELECT count(*) FROM articles),
    (SELECT count(*) FROM mentions),
    (SELECT count(*) FROM entities),
    (SELECT count(*) FROM runs),
    (SELECT coalesce(sum(n_duplicates), 0) FROM runs),
    (SELECT count(*) FROM articles AS a WHERE NOT EXISTS (
        SELECT 1 FROM sentences AS s
        WHERE s.article_id = a.article_id
          AND s.model = (SELECT value FROM meta WHERE key = 'aggregate_model')))
