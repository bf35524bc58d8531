"""Warehouse at scale: a deterministic synthetic corpus with 1,000,000 mentions, then the
common queries and a real pipeline run on top of it.

Reports: the aggregation stage over all 1M mentions, the median time of the top-entities-for-a-
month and entity-timeline queries (target < 200 ms each), and the share of a real incremental
run's time spent aggregating (target < 10 %). Usage: python -m benchmarks.warehouse_scale [N]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from tasks.resolve import resolve_keys
from tasks.warehouse import (
    Warehouse,
    arrow_schema,
    commit_run,
    compute_aggregates,
    export_parquet,
    resolution_inputs,
    to_arrow,
)

LABELS = ("PERSON", "ORG", "GPE")
KINDS = {"PERSON": "person", "ORG": "org", "GPE": "place"}
FIRST = ["Anna", "Boris", "Chen", "Dara", "Emil", "Farah", "Goran", "Hana", "Ivan", "Jana",
         "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Yusuf"]
LAST = ["Adler", "Brandt", "Costa", "Dvorak", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
        "Jensen", "Kovac", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi",
        "Sato", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Young", "Zielinski"]


def entity_pool(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Return n distinct (name, label) pairs."""
    pool, seen = [], set()
    while len(pool) < n:
        label = LABELS[len(pool) % 3]
        if label == "PERSON":
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}{rng.randint(1, 999)}"
        elif label == "ORG":
            name = f"{rng.choice(LAST)}{rng.randint(1, 9999)} Holdings Group"
        else:
            name = f"Port {rng.choice(LAST)}{rng.randint(1, 9999)}"
        if name not in seen:
            seen.add(name)
            pool.append((name, label))
    return pool


def synthetic_corpus(n_mentions: int, *, per_article: int = 25, n_entities: int = 20_000,
                     n_sources: int = 60, n_days: int = 365, seed: int = 7):
    """Return (articles, mentions) Arrow tables: dated, many sources, Zipf-distributed entities."""
    rng = random.Random(seed)
    pool = entity_pool(n_entities, rng)
    weights = [1 / (rank + 1) ** 1.05 for rank in range(n_entities)]
    n_articles = n_mentions // per_article
    start = datetime(2025, 1, 1)
    articles = {name: [] for name in arrow_schema("articles").names}
    mentions = {name: [] for name in arrow_schema("mentions").names}
    for a in range(n_articles):
        article_id = f"syn{a:08d}"
        published = start + timedelta(days=rng.randrange(n_days), hours=rng.randrange(24))
        for column, value in (("article_id", article_id), ("external_id", article_id),
                              ("source", f"source-{rng.randrange(n_sources):02d}"),
                              ("url", None), ("title", None), ("description", None),
                              ("authors", []), ("published_at", published),
                              ("date_method", "metadata"), ("text", "x " * 200),
                              ("word_count", 200), ("language", "en"), ("language_score", 1.0),
                              ("extraction_method", "jsonl"), ("wire_attribution", None),
                              ("story_id", article_id), ("input_path", "synthetic"),
                              ("run_id", "synthetic")):
            articles[column].append(value)
        for i, index in enumerate(rng.choices(range(n_entities), weights, k=per_article)):
            name, label = pool[index]
            key = f"{KINDS[label]}:{name.casefold()}"
            for column, value in (("article_id", article_id), ("start_char", 2 * i),
                                  ("end_char", 2 * i + 1), ("sentence_index", i // 3),
                                  ("text", name), ("label", label), ("entity_id", key),
                                  ("key", key), ("name", name), ("model", "en_core_web_sm"),
                                  ("model_version", "3.8.0"), ("run_id", "synthetic")):
                mentions[column].append(value)
    return (pa.Table.from_pydict(articles, schema=arrow_schema("articles")),
            pa.Table.from_pydict(mentions, schema=arrow_schema("mentions")), pool)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(con, sql: str, params: list, runs: int = 21) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


SENTENCES = [
    "{a} met {b} in {p} on Tuesday to discuss trade, energy and security in the region.",
    "The talks in {p} lasted more than three hours, officials familiar with the meeting said.",
    "{b} told reporters afterwards that the two sides had agreed to meet again next month.",
    "Critics of {a} said the meeting achieved little for the people of {p} and its neighbours.",
    "Markets reacted calmly, with the main index in {p} closing slightly higher on the day.",
    "Analysts said the outcome would depend on whether {a} could win support at home.",
    "Opposition leaders in {p} called for a public debate before any agreement is signed.",
    "{b} has faced growing pressure over rising prices and a slowing economy this year.",
    "Diplomats said a joint statement was being drafted but gave no date for its release.",
    "The next round of talks is expected to take place in {q} before the end of the year.",
    "Officials in {q} welcomed the meeting and said they were ready to help if asked.",
    "A spokesperson for {a} declined to comment on the details of the discussions.",
]


def news_texts(pool: list[tuple[str, str]], n: int, seed: int = 11) -> list[dict]:
    """Return n dated wire-style articles of about 230 words naming entities of the pool, for a
    real NER run of realistic length."""
    rng = random.Random(seed)
    people = [p for p, label in pool[:300] if label == "PERSON"]
    places = [p for p, label in pool[:300] if label == "GPE"]
    docs = []
    for i in range(n):
        names = {"a": rng.choice(people), "b": rng.choice(people), "p": rng.choice(places),
                 "q": rng.choice(places)}
        order = rng.sample(SENTENCES, len(SENTENCES))
        text = "\n".join(line.format(**names) for line in [SENTENCES[0], *order])
        docs.append({"id": f"news-{i}", "text": text, "source": f"source-{i % 7:02d}",
                     "published": f"2025-12-{1 + i % 28:02d}T09:00:00Z"})
    return docs


def main(n_mentions: int = 1_000_000) -> None:
    root = Path(tempfile.mkdtemp(prefix="newsner-bench-"))
    warehouse = Warehouse(root / "warehouse")
    print(f"generating {n_mentions:,} synthetic mentions ...", flush=True)
    articles, mentions, pool = synthetic_corpus(n_mentions)
    staging = warehouse.staging("synthetic")
    staging.write("articles", articles)
    staging.write("mentions", mentions)
    counts, acronyms, caps = resolution_inputs(warehouse, staging)
    resolve_seconds = timed(lambda: staging.write("entity_keys", to_arrow(
        "entity_keys", resolve_keys(counts, acronyms, caps_keys=caps, counts=counts))))
    aggregate_seconds = timed(lambda: compute_aggregates(warehouse, staging, model="en_core_web_sm"))
    run = {"run_id": "synthetic", "started_at": datetime(2026, 1, 1),
           "finished_at": datetime(2026, 1, 1), "inputs": ["synthetic"], "model": "en_core_web_sm",
           "model_version": "3.8.0", "n_inputs": articles.num_rows, "n_duplicates": 0,
           "n_new_articles": articles.num_rows, "n_other_language": 0,
           "n_mentions": mentions.num_rows, "n_rejects": 0, "stage_seconds": "{}"}
    commit_seconds = timed(lambda: commit_run(warehouse, staging, run))
    export_seconds = timed(lambda: export_parquet(warehouse))
    print(f"{articles.num_rows:,} articles, {mentions.num_rows:,} mentions, "
          f"{len(counts):,} mention keys")
    print(f"resolve {resolve_seconds:.2f} s, aggregate {aggregate_seconds:.2f} s, "
          f"commit {commit_seconds:.2f} s, Parquet export {export_seconds:.2f} s")

    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        entity = con.execute("SELECT entity_id FROM entities ORDER BY n_mentions DESC "
                             "LIMIT 1 OFFSET 50").fetchone()[0]
        top_ms = median_ms(con, "SELECT name, n_mentions FROM top_entities WHERE month = ? "
                                "AND label = 'PERSON' AND rank <= 20 ORDER BY rank",
                           [datetime(2025, 6, 1).date()])
        timeline_ms = median_ms(con, "SELECT day, n_mentions FROM entity_timeline "
                                     "WHERE entity_id = ? ORDER BY day", [entity])
    print(f"top entities for a month: median {top_ms:.1f} ms (target < 200 ms)")
    print(f"entity timeline:          median {timeline_ms:.1f} ms (target < 200 ms)")

    from flows.pipeline import newsner_run
    from tasks.settings import Settings

    inputs = root / "news.jsonl"
    inputs.write_text("\n".join(json.dumps(d) for d in news_texts(pool, 400)) + "\n")
    summary = newsner_run([str(inputs)], Settings(warehouse=warehouse.root))
    seconds = summary["stage_seconds"]
    total = sum(seconds.values())
    print(f"real run on top: {summary['n_new_articles']} new articles, "
          f"{summary['n_mentions']} mentions; stage seconds {json.dumps(seconds)}")
    print(f"aggregation share of the run: {seconds['aggregate'] / total:.1%} (target < 10 %)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
