-- Top five entities of each source in each week.
SELECT week, source, name, label, n_mentions
FROM (
    SELECT w.week, w.source, e.name, e.label, w.n_mentions,
           row_number() OVER (PARTITION BY w.week, w.source ORDER BY w.n_mentions DESC, e.name) AS r
    FROM entity_weekly AS w
    JOIN entities AS e USING (entity_id)
    WHERE w.week IS NOT NULL AND w.source IS NOT NULL
)
WHERE r <= 5
ORDER BY week, source, n_mentions DESC, name;
