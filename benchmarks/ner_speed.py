"""NER stage speed against plain `nlp.pipe` with the full pipeline, in one process, as ratios.

Usage: python -m benchmarks.ner_speed [N_ARTICLES]   (default 500 BBC News articles)
"""

from __future__ import annotations

import sys

import spacy

from benchmarks.common import DATA, read_jsonl, timed
from tasks.clean import clean_records
from tasks.ner import find_mentions, load_nlp, resolve_model
from tasks.settings import Settings


def main(n: int = 500) -> None:
    settings = Settings()
    records = [{**r, "external_id": str(r["id"]), "input_path": "bbc"}
               for r in read_jsonl(DATA / "bbc-news" / "articles.jsonl", n)]
    articles, _, _ = clean_records(records, max_chars=settings.max_chars)
    texts = [a["text"] for a in articles]
    words = sum(len(t.split()) for t in texts)

    full = spacy.load(resolve_model(settings.model))
    stage = load_nlp(settings.model)
    list(full.pipe(texts[:20]))  # warm both up
    list(stage.pipe(texts[:20]))

    rows = []
    seconds, _ = timed(lambda: [len(d.ents) for d in full.pipe(texts, batch_size=64)])
    baseline = words / seconds
    rows.append(("plain nlp.pipe, full pipeline (baseline)", seconds, baseline))
    for n_process in (1, 2):
        seconds, mentions = timed(lambda n_process=n_process: find_mentions(
            stage, articles, labels=settings.labels, batch_size=64, n_process=n_process))
        rows.append((f"newsner NER stage, n_process={n_process} ({len(mentions)} mentions)",
                     seconds, words / seconds))

    print(f"{len(articles)} articles, {words:,} words, model {settings.model}")
    print(f"{'configuration':<58} {'seconds':>8} {'words/s':>9} {'ratio':>6}")
    for name, seconds, rate in rows:
        print(f"{name:<58} {seconds:>8.2f} {rate:>9,.0f} {rate / baseline:>6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
