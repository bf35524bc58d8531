-- Which countries rose this week: mentions of each country (its places, its demonyms) in the latest
-- 7 days of news against the 7 days before.
WITH
latest AS (SELECT max(day) AS last FROM country_timeline),

weeks AS (
    SELECT
        country_code, country,
        coalesce(sum(n_mentions) FILTER (WHERE day > last - 7), 0) AS this_week,
        coalesce(sum(n_mentions) FILTER (WHERE day <= last - 7 AND day > last - 14), 0) AS week_before
    FROM country_timeline, latest
    GROUP BY ALL
)

SELECT country_code, country, this_week, week_before, this_week - week_before AS change
FROM weeks
ORDER BY change DESC, country_code
LIMIT 10;
