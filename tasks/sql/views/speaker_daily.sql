-- Quotes per speaking entity and UTC day: how many, how many direct, and their average tone.
-- e.g. SELECT day, n_quotes, tone FROM speaker_daily WHERE speaker_id = 'person:kim jong un' ORDER BY day
CREATE OR REPLACE VIEW speaker_daily AS
SELECT
    CAST(published_at AS DATE) AS day, speaker_id, any_value(speaker_name) AS speaker_name,
    count(*) AS n_quotes, count(*) FILTER (WHERE direct) AS n_direct,
    round(avg(tone), 4) AS tone
FROM who_said_what
WHERE speaker_id IS NOT NULL
GROUP BY ALL
