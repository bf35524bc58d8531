"""NER stage speed against plain `nlp.pipe` with the full pipeline, in one process, as ratios.

Usage: python -m benchmarks.ner_speed [N_ARTICLES]   (default 500 BBC News articles)
"""

from __future__ import annotations

import sys

import spacy

from benchmarks.common import DATA, read_jsonl, timed
from tasks.clean import clean_records
from tasks.ner import load_nlp, resolve_model
from tasks.settings import Settings
from tasks.workers import NerConfig, extract_rows, ner_pool


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

    config = NerConfig(model=settings.model, labels=tuple(settings.labels))
    pool = ner_pool(config, 2)
    pool.run(articles[:4], timeout=600)  # both workers up, the pipeline loaded

    rows = []
    seconds, _ = timed(lambda: [len(d.ents) for d in full.pipe(texts, batch_size=64)])
    baseline = words / seconds
    rows.append(("plain nlp.pipe, full pipeline (baseline)", seconds, baseline))
    seconds, found = timed(lambda: extract_rows(stage, articles, config))
    rows.append((f"newsner NER rows, in-process ({len(found['mentions'])} mentions)", seconds,
                 words / seconds))
    seconds, found = timed(lambda: pool.run(articles, timeout=3600))
    rows.append((f"newsner NER rows, 2 worker processes ({len(found['mentions'])} mentions)",
                 seconds, words / seconds))
    pool.close()

    print(f"{len(articles)} articles, {words:,} words, model {settings.model}")
    print(f"{'configuration':<58} {'seconds':>8} {'words/s':>9} {'ratio':>6}")
    for name, seconds, rate in rows:
        print(f"{name:<58} {seconds:>8.2f} {rate:>9,.0f} {rate / baseline:>6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
