-- Who appears with whom: the entities sharing sentences with Kim Jong-un.
SELECT name, label, n_sentences, n_articles, round(pmi, 2) AS pmi
FROM cooccurring('person:kim jong un')
LIMIT 10;
