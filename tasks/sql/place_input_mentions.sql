-- The place-label mentions of the chunk chosen by place_inputs.sql.
SELECT m.article_id, m.model, m.key, m.text, m.label, m.start_char, m.end_char
FROM mentions AS m
JOIN place_input_articles USING (article_id)
WHERE m.model = (SELECT value FROM meta WHERE key = 'aggregate_model')
  AND m.label IN ('GPE', 'LOC', 'FAC', 'NORP', 'ORG', 'PRODUCT', 'WORK_OF_ART', 'EVENT')
ORDER BY m.article_id, m.start_char
