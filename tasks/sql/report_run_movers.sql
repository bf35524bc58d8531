-- Run report: the entities furthest above their baseline on the latest day with enough support
-- (the `trending` view's rows of that day, computed for that day alone: a run's cost must not
-- grow with the warehouse's history).
WITH
daily AS (
    SELECT day, entity_id, CAST(sum(n_mentions) AS BIGINT) AS n_mentions
    FROM entity_daily
    WHERE day IS NOT NULL
    GROUP BY ALL
),

latest AS (
    SELECT day, entity_id, n_mentions
    FROM daily
    WHERE n_mentions >= 3 AND day = (SELECT max(day) FROM daily WHERE n_mentions >= 3)
),

baseline AS (
    SELECT
        l.entity_id,
        coalesce(sum(d.n_mentions), 0) / 28.0 AS mean,
        coalesce(sum(d.n_mentions * d.n_mentions), 0) / 28.0 AS mean_square
    FROM latest AS l
    LEFT JOIN daily AS d
        ON d.entity_id = l.entity_id AND d.day >= l.day - INTERVAL 28 DAYS AND d.day < l.day
    GROUP BY l.entity_id
)

SELECT
    e.name, e.label, l.n_mentions, round(b.mean, 3) AS baseline_mean,
    round((l.n_mentions - b.mean)
          / greatest(sqrt(greatest(b.mean_square - b.mean * b.mean, 0)), 1.0), 3) AS z_score
FROM latest AS l
JOIN baseline AS b USING (entity_id)
JOIN entities AS e USING (entity_id)
ORDER BY z_score DESC, e.name
LIMIT $limit
