-- Report: articles by detected language.
SELECT language, count(*) AS n FROM articles GROUP BY language ORDER BY n DESC, language
