-- Show me the sentences: every mention of Vladimir Putin, read back in its sentence.
SELECT published_at, source, text AS mention, sentence
FROM mention_context
WHERE entity_id = 'person:vladimir putin'
ORDER BY published_at NULLS LAST, article_id, start_char;
