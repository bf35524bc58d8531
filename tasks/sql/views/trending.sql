-- Each entity-day against the entity's trailing 28-day baseline (days without mentions count as
-- zero). z_score = (mentions - baseline mean) / max(baseline sd, 1). Minimum support: 3 mentions.
-- e.g. SELECT * FROM trending WHERE day = DATE '2025-10-24' ORDER BY z_score DESC LIMIT 10
CREATE OR REPLACE VIEW trending AS
WITH
daily AS (
    SELECT day, entity_id, CAST(sum(n_mentions) AS BIGINT) AS n_mentions
    FROM entity_daily
    WHERE day IS NOT NULL
    GROUP BY ALL
),

baseline AS (
    SELECT
        day, entity_id, n_mentions,
        coalesce(sum(n_mentions) OVER last_28_days, 0) / 28.0 AS mean,
        coalesce(sum(n_mentions * n_mentions) OVER last_28_days, 0) / 28.0 AS mean_square
    FROM daily
    WINDOW last_28_days AS (
        PARTITION BY entity_id ORDER BY day
        RANGE BETWEEN INTERVAL 28 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING
    )
),

final AS (
    SELECT
        b.day, b.entity_id, e.name, e.label, b.n_mentions,
        round(b.mean, 3) AS baseline_mean,
        round(sqrt(greatest(b.mean_square - b.mean * b.mean, 0)), 3) AS baseline_sd,
        round((b.n_mentions - b.mean)
              / greatest(sqrt(greatest(b.mean_square - b.mean * b.mean, 0)), 1.0), 3) AS z_score
    FROM baseline AS b
    JOIN entities AS e USING (entity_id)
    WHERE b.n_mentions >= 3
)

SELECT * FROM final
