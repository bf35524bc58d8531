-- Report: daily mentions of the entities with the highest trending z-scores (else the most
-- mentioned), for a timeline each.
WITH
movers AS (
    SELECT entity_id, max(z_score) AS score
    FROM trending
    GROUP BY entity_id
    UNION ALL
    SELECT entity_id, -1e9 + n_mentions AS score
    FROM entities
),

chosen AS (
    SELECT entity_id, max(score) AS score
    FROM movers
    GROUP BY entity_id
    ORDER BY score DESC, entity_id
    LIMIT $limit
)

SELECT t.name, t.day, t.n_mentions
FROM entity_timeline AS t
JOIN chosen AS c USING (entity_id)
ORDER BY c.score DESC, t.entity_id, t.day
