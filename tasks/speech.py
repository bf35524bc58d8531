"""Who said what, and in what tone: the quotes of a run's articles with their speakers
(tasks/quotes.py) and the tone toward every mention (tasks/tone.py). Runs over the run's final
mentions part by part, and once over the stored articles of a warehouse that had none yet (after
migration 005)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.parts import computed, run_parts, stored_parts
from tasks.quotes import find_quotes
from tasks.timing import stage_logger, timed
from tasks.tone import mention_tone, tone
from tasks.warehouse import Staging, Warehouse, to_arrow

OUTPUTS = ("quotes", "mention_tones")
PENDING = "speech_pending"  # meta key: stored articles still without quotes and tone


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


def _stage(staging: Staging, part: int, rows: dict[str, list[dict]], counts: Counter) -> None:
    for name in OUTPUTS:
        staging.write(name, to_arrow(name, rows[name]), part)
    counts["n_quotes"] += len(rows["quotes"])
    counts["n_direct_quotes"] += sum(q["direct"] for q in rows["quotes"])
    counts["n_attributed"] += sum(q["speaker_key"] is not None for q in rows["quotes"])
    counts["n_toned"] += len(rows["mention_tones"])


@task(name="quotes-and-tone", cache_policy=NO_CACHE, timeout_seconds=3_600)
@timed("quotes")
def find_quotes_and_tone(warehouse: Warehouse, staging: Staging, *, chunk_size: int = 1_000) -> dict:
    """Stage the quotes and mention tones of the run's articles (and of stored ones without)."""
    counts: Counter = Counter()
    for (part, *_), rows in computed(article_rows, run_parts(staging)):
        _stage(staging, part, rows, counts)
        fault_point("quotes:part")
    for (part, articles, *_), rows in computed(article_rows, stored_parts(
            warehouse, staging, flag=PENDING, done="mention_tones", labels=None,
            chunk_size=chunk_size, flag_part=1)):
        _stage(staging, part, rows, counts)
        counts["n_backfilled_quotes"] += len(articles)
    stage_logger().info("quotes and tone: %s", dict(counts))
    return dict(counts)
