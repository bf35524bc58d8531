-- Report: the entities whose tone moved most: the average tone toward each entity over the latest
-- 7 days with news against the 23 days before them (each side with at least 3 mentions).
WITH
latest AS (SELECT max(day) AS last FROM entity_tone),

sides AS (
    SELECT
        entity_id, any_value(name) AS name,
        sum(n_mentions) FILTER (WHERE day > last - 7) AS n_recent,
        sum(n_mentions * tone) FILTER (WHERE day > last - 7) AS recent,
        sum(n_mentions) FILTER (WHERE day <= last - 7 AND day > last - 30) AS n_before,
        sum(n_mentions * tone) FILTER (WHERE day <= last - 7 AND day > last - 30) AS before
    FROM entity_tone, latest
    WHERE day IS NOT NULL
    GROUP BY entity_id
)

SELECT name, round(recent / n_recent - before / n_before, 3) AS change,
       round(recent / n_recent, 3) AS tone, n_recent, n_before
FROM sides
WHERE n_recent >= 3 AND n_before >= 3
ORDER BY abs(recent / n_recent - before / n_before) DESC, name
LIMIT $limit
