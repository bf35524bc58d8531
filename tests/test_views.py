"""The views and example queries on a small corpus checked by hand, on a real DuckDB file."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from tasks.resolve import resolve_keys
from tasks.warehouse import (
    Warehouse,
    commit_run,
    compute_aggregates,
    query,
    resolution_inputs,
    to_arrow,
)

DAY0 = datetime(2025, 10, 1, 12)


def article(n: int, day: int, source: str) -> dict:
    return {"article_id": f"a{n:02d}", "external_id": f"{n}", "source": source, "authors": [],
            "published_at": DAY0 + timedelta(days=day), "date_method": "metadata",
            "text": "x " * 50, "word_count": 50, "input_path": "t", "extraction_method": "wire",
            "story_id": f"a{n:02d}", "run_id": "r"}


def mention(article_id: str, i: int, sentence: int, entity: str, label: str = "PERSON") -> dict:
    return {"article_id": article_id, "start_char": 2 * i, "end_char": 2 * i + 1,
            "sentence_index": sentence, "text": "x", "label": label, "entity_id": entity,
            "key": entity, "name": entity.split(":")[1].title(), "model": "m",
            "model_version": "1", "run_id": "r"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Kim is mentioned once a day for ten days, then five times on day 10 with Putin; Putin
    appears on days 9 and 10; Seoul once, beside Kim, on day 3."""
    articles, mentions = [], []
    for day in range(10):
        articles.append(article(day, day, "Wire" if day % 2 else "Ledger"))
        mentions.append(mention(f"a{day:02d}", 0, 0, "person:kim"))
    articles.append(article(10, 10, "Wire"))
    mentions += [mention("a10", i, i, "person:kim") for i in range(5)]
    mentions += [mention("a10", 5 + i, i, "person:putin") for i in range(3)]
    mentions += [mention("a09", 1, 0, "person:putin")]
    mentions += [mention("a03", 1, 0, "place:seoul", "GPE")]
    sentences = [{"article_id": m["article_id"], "model": "m", "sentence_index": m["sentence_index"],
                  "start_char": 0, "end_char": 9} for m in mentions]
    w = Warehouse(tmp_path_factory.mktemp("views"))
    staging = w.staging("r")
    staging.write("articles", to_arrow("articles", articles))
    staging.write("mentions", to_arrow("mentions", mentions))
    staging.write("sentences", to_arrow("sentences", list({(s["article_id"], s["sentence_index"]): s
                                                          for s in sentences}.values())))
    counts, acronyms, caps = resolution_inputs(w, staging)
    staging.write("entity_keys", to_arrow("entity_keys", resolve_keys(counts, acronyms, counts=counts)))
    compute_aggregates(w, staging, model="m")
    commit_run(w, staging, {"run_id": "r", "started_at": DAY0, "finished_at": DAY0, "inputs": [],
                            "model": "m", "model_version": "1", "n_inputs": 11, "n_duplicates": 0,
                            "n_new_articles": 11, "n_other_language": 0, "n_mentions": 11,
                            "n_rejects": 0, "stage_seconds": "{}"})
    return w


def test_top_entities_ranks_within_label_and_month(warehouse):
    _, rows = query(warehouse, "SELECT month, label, name, n_mentions, n_articles, rank "
                               "FROM top_entities ORDER BY label, rank")
    assert rows == [(date(2025, 10, 1), "GPE", "Seoul", 1, 1, 1),
                    (date(2025, 10, 1), "PERSON", "Kim", 15, 11, 1),
                    (date(2025, 10, 1), "PERSON", "Putin", 4, 2, 2)]


def test_entity_timeline_sums_sources_per_day(warehouse):
    _, rows = query(warehouse, "SELECT day, n_mentions, n_articles, n_sources FROM entity_timeline "
                               "WHERE entity_id = 'person:putin' ORDER BY day")
    assert rows == [(date(2025, 10, 10), 1, 1, 1), (date(2025, 10, 11), 3, 1, 1)]


def test_trending_scores_a_day_against_its_trailing_baseline(warehouse):
    _, rows = query(warehouse, "SELECT day, name, n_mentions, baseline_mean, baseline_sd, z_score "
                               "FROM trending ORDER BY day, name")
    # Kim on day 11: ten earlier days of 1 mention -> mean 10/28, sd sqrt(10/28 - (10/28)^2)
    mean = 10 / 28
    sd = math.sqrt(mean - mean * mean)
    assert rows == [(date(2025, 10, 11), "Kim", 5, round(mean, 3), round(sd, 3),
                     round((5 - mean) / 1.0, 3)),
                    (date(2025, 10, 11), "Putin", 3, round(1 / 28, 3),
                     round(math.sqrt(1 / 28 - (1 / 28) ** 2), 3), round(3 - 1 / 28, 3))]
    # days with fewer than 3 mentions are below the minimum support
    assert all(r[2] >= 3 for r in rows)


def test_cooccurring_lists_partners_with_counts_and_pmi(warehouse):
    _, rows = query(warehouse, "SELECT entity_id, n_articles, n_sentences, round(pmi, 4) "
                               "FROM cooccurring('person:kim')")
    # 11 articles: Kim in all 11, Putin in 2, Seoul in 1 -> PMI log2(n_ab * N / (n_a n_b)) = 0
    assert rows == [("person:putin", 2, 4, 0.0), ("place:seoul", 1, 1, 0.0)]


def test_mention_context_reads_each_mention_back_in_its_sentence(warehouse):
    _, rows = query(warehouse, "SELECT count(*), count(sentence), min(sentence) FROM mention_context")
    assert rows == [(20, 20, "x x x x x")]


RECOMPUTED = {
    # written independently of tasks/sql/aggregate_*.sql, straight from mentions and articles
    "SELECT entity_id, n_mentions, n_articles, n_stories, n_sentences FROM entities": """
        SELECT m.entity_id, count(*), count(DISTINCT m.article_id), count(DISTINCT a.story_id),
               count(DISTINCT m.article_id || '#' || m.sentence_index)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY m.entity_id""",
    "SELECT day, entity_id, source, n_mentions, n_articles FROM entity_daily": """
        SELECT CAST(a.published_at AS DATE), m.entity_id, a.source, count(*),
               count(DISTINCT m.article_id)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY 1, 2, 3""",
    "SELECT week, entity_id, source, n_mentions FROM entity_weekly": """
        SELECT CAST(a.published_at::DATE - CAST(isodow(a.published_at) - 1 AS INTEGER) AS DATE),
               m.entity_id, a.source, count(*)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY 1, 2, 3""",
    "SELECT entity_id, surface, n_mentions FROM entity_aliases": """
        SELECT entity_id, text, count(*) FROM {mentions} GROUP BY entity_id, text, label""",
    "SELECT entity_a, entity_b, n_articles, n_sentences FROM cooccurrence": """
        SELECT x.entity_id, y.entity_id, count(DISTINCT x.article_id),
               count(DISTINCT CASE WHEN x.sentence_index = y.sentence_index
                                   THEN x.article_id || '#' || x.sentence_index END)
        FROM {mentions} x, {mentions} y
        WHERE x.article_id = y.article_id AND x.entity_id < y.entity_id
        GROUP BY 1, 2""",
}


def assert_aggregates_match_mentions(warehouse: Warehouse, model: str | None = None) -> None:
    """Every aggregate row equals its recomputation from the mentions of `model` (default: the
    only model in the warehouse)."""
    if model is None:
        [(model,)] = query(warehouse, "SELECT DISTINCT model FROM mentions")[1]
    mentions = "(SELECT * FROM mentions WHERE model = $model)"
    for stored, recomputed in RECOMPUTED.items():
        assert sorted(query(warehouse, stored)[1], key=str) == sorted(
            query(warehouse, recomputed.format(mentions=mentions), {"model": model})[1],
            key=str), stored


def test_every_aggregate_equals_its_recomputation_from_mentions(warehouse):
    assert_aggregates_match_mentions(warehouse)
