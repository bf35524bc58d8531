-- Who was in the news: the ten most mentioned people of the latest month.
SELECT month, rank, name, n_mentions, n_articles, n_stories
FROM top_entities
WHERE label = 'PERSON' AND month = (SELECT max(month) FROM top_entities) AND rank <= 10
ORDER BY rank, name;
