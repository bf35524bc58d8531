"""The rows of the speech stage (tasks/speech.py), pure: the quotes of articles with their
speakers (tasks/quotes.py) and the tone toward every mention (tasks/tone.py). Runs on NER's worker
processes, which never import Prefect."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tasks.quotes import find_quotes
from tasks.tone import mention_tone, tone


def article_rows(articles: Sequence[dict], mentions: Sequence[dict], sentences: Sequence[dict]
                 ) -> dict[str, list[dict]]:
    """Return the quotes and mention_tones rows of `articles` (dicts with article_id and text),
    given their mentions (article_id, model, key, text, label, start_char, end_char,
    sentence_index) and sentences (article_id, model, sentence_index, start_char, end_char)."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        by_article[m["article_id"]].append(m)
    spans: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for s in sentences:
        spans[s["article_id"]][s["sentence_index"]] = (s["start_char"], s["end_char"])
    rows: dict[str, list[dict]] = {"quotes": [], "mention_tones": []}
    for article in articles:
        text, found = article["text"], by_article.get(article["article_id"], [])
        if not found:
            continue
        model = found[0]["model"]
        bounds = spans.get(article["article_id"], {})
        ordered = [bounds[i] for i in sorted(bounds)]
        for q in find_quotes(text, found, ordered or None):
            rows["quotes"].append({
                "article_id": article["article_id"], "model": model, "start_char": q.start,
                "end_char": q.end, "text": text[q.start:q.end], "direct": q.direct, "rule": q.rule,
                "cue": text[q.cue_start:q.cue_end] if q.cue_start is not None else None,
                "cue_start": q.cue_start, "cue_end": q.cue_end,
                "speaker": (text[q.speaker_start:q.speaker_end]
                            if q.speaker_start is not None else None),
                "speaker_start": q.speaker_start, "speaker_end": q.speaker_end,
                "speaker_key": q.speaker_key, "tone": tone(text[q.start:q.end])})
        for m in found:  # tone() scores each text once: a sentence of several mentions too
            s_start, s_end = bounds.get(m["sentence_index"], (0, len(text)))
            sentence = text[s_start:s_end]
            rows["mention_tones"].append({
                "article_id": article["article_id"], "model": model,
                "start_char": m["start_char"], "end_char": m["end_char"],
                "tone": mention_tone(sentence, m["start_char"] - s_start, m["end_char"] - s_start),
                "sentence_tone": tone(sentence)})
    return rows
