-- Report: the strongest co-occurring pairs, by shared sentences.
SELECT entity_a, name_a, entity_b, name_b, n_sentences
FROM cooccurrence_scores
WHERE n_sentences > 0
ORDER BY n_sentences DESC, n_articles DESC, entity_a, entity_b
LIMIT $limit
