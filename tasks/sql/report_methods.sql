-- Report: articles by how their text was obtained.
SELECT extraction_method, count(*) AS n FROM articles GROUP BY ALL ORDER BY n DESC, 1
