-- Per country and UTC day: mentions of places in it, articles naming it, articles focused on it.
-- e.g. SELECT day, n_mentions FROM country_timeline WHERE country_code = 'KP' ORDER BY day
CREATE OR REPLACE VIEW country_timeline AS
WITH
named AS (
    SELECT
        CAST(a.published_at AS DATE) AS day, mp.country_code,
        CAST(sum(mp.n_mentions) AS BIGINT) AS n_mentions,
        count(DISTINCT mp.article_id) AS n_articles
    FROM mention_places AS mp
    JOIN articles AS a USING (article_id)
    WHERE mp.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
      AND mp.country_code IS NOT NULL AND a.published_at IS NOT NULL
    GROUP BY ALL
),

focused AS (
    SELECT CAST(a.published_at AS DATE) AS day, f.country_code, count(*) AS n_focus_articles
    FROM article_focus AS f
    JOIN articles AS a USING (article_id)
    WHERE f.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
      AND a.published_at IS NOT NULL
    GROUP BY ALL
)

SELECT
    n.day, n.country_code, c.name AS country, n.n_mentions, n.n_articles,
    coalesce(f.n_focus_articles, 0) AS n_focus_articles
FROM named AS n
LEFT JOIN focused AS f USING (day, country_code)
LEFT JOIN places AS c ON c.feature_code = 'PCLI' AND c.country_code = n.country_code
