-- Articles focused on one country that name a place elsewhere: here focused on Russia and naming
-- Pyongyang (for Ukraine: focus_country = 'UA').
SELECT DISTINCT article_id, published_at, source, title, focus_place
FROM article_places
WHERE focus_country = 'RU' AND place_name = 'Pyongyang'
ORDER BY published_at NULLS LAST, article_id;
