-- Report: the most quoted people of the reporting period (the 30 days up to the latest dated
-- article; every article when none has a date), with their number of quotes and one sample: their
-- latest direct quote of 12 to 60 words (else their latest quote).
WITH
latest AS (SELECT max(published_at) AS last FROM articles),

period AS (
    SELECT *
    FROM who_said_what
    WHERE speaker_label = 'PERSON'
      AND ((SELECT last FROM latest) IS NULL
           OR published_at > (SELECT last FROM latest) - INTERVAL 30 DAY)
),

ranked AS (
    SELECT
        speaker_id, speaker_name, quote,
        count(*) OVER (PARTITION BY speaker_id) AS n_quotes,
        row_number() OVER (
            PARTITION BY speaker_id
            ORDER BY (direct AND len(string_split(quote, ' ')) BETWEEN 12 AND 60) DESC,
                     published_at DESC NULLS LAST, article_id, start_char
        ) AS pick
    FROM period
)

SELECT speaker_name, n_quotes, quote
FROM ranked
WHERE pick = 1
ORDER BY n_quotes DESC, speaker_name
LIMIT $limit
