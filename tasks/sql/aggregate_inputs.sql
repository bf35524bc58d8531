-- Stored rows plus the rows the current run staged (registered as new_articles / new_mentions).
CREATE OR REPLACE TEMP VIEW all_articles AS
SELECT * FROM articles
UNION ALL BY NAME
SELECT * FROM new_articles
WHERE article_id NOT IN (SELECT article_id FROM articles);

CREATE OR REPLACE TEMP VIEW all_mentions AS
SELECT * FROM mentions
UNION ALL BY NAME
SELECT n.* FROM new_mentions AS n
WHERE NOT EXISTS (
    SELECT 1 FROM mentions AS m
    WHERE m.article_id = n.article_id AND m.model = n.model
      AND m.start_char = n.start_char AND m.end_char = n.end_char
);
