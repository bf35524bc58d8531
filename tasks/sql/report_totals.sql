-- Report: headline counts.
SELECT
    (SELECT count(*) FROM articles),
    (SELECT count(*) FROM mentions),
    (SELECT count(*) FROM entities),
    (SELECT count(*) FROM runs),
    (SELECT coalesce(sum(n_duplicates), 0) FROM runs),
    (SELECT count(*) FROM articles WHERE language IS NOT NULL AND article_id NOT IN
        (SELECT article_id FROM mentions) AND language <> 'en')
