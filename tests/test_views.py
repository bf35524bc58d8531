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
KIM, PUTIN, LEE = ("Kim", "person:kim", "PERSON"), ("Putin", "person:putin", "PERSON"), \
    ("Lee", "person:lee", "PERSON")
MOON, SEOUL, SEOUL_LOC = ("Moon", "person:moon", "PERSON"), ("Seoul", "place:seoul", "GPE"), \
    ("Seoul", "place:seoul", "LOC")


def build(n: int, day: int, source: str, sentences: list[list[tuple]], *, story: int | None = None,
          language: str = "en") -> tuple[dict, list[dict], list[dict]]:
    """One article whose sentence j reads "In sentence j of article n, <names> spoke.", with its
    mentions (offsets into that text) and sentences."""
    text, mentions, spans = "", [], []
    for j, names in enumerate(sentences):
        sentence = f"In sentence {j} of article {n}, " + " and ".join(n_[0] for n_ in names) + " spoke."
        start = len(text)
        at = len(f"In sentence {j} of article {n}, ")
        for surface, entity, label in names:
            found = sentence.index(surface, at)
            at = found + len(surface)
            mentions.append({
                "article_id": f"a{n:02d}", "start_char": start + found, "end_char": start + at,
                "sentence_index": j, "text": surface, "label": label, "entity_id": entity,
                "key": entity, "name": surface, "model": "m", "model_version": "1", "run_id": "r"})
        spans.append({"article_id": f"a{n:02d}", "model": "m", "sentence_index": j,
                      "start_char": start, "end_char": start + len(sentence)})
        text += sentence + " "
    row = {"article_id": f"a{n:02d}", "external_id": f"{n}", "source": source, "authors": [],
           "published_at": DAY0 + timedelta(days=day), "date_method": "metadata",
           "text": text or "Ein Artikel auf Deutsch. " * 4, "word_count": len(text.split()),
           "input_path": "t", "extraction_method": "wire", "story_id": f"a{story or n:02d}",
           "language": language, "run_id": "r"}
    return row, mentions, spans


def corpus() -> list[tuple[dict, list[dict], list[dict]]]:
    """Two months, two sources; checked by hand in the tests below:
    - Kim once a day on Oct 1-10 (sentence 0), then 5 times on Oct 11 (a10, Wire) and once in
      a12, a copy of a10 in the same story (Wire): 16 mentions, 12 articles, 11 stories.
    - Lee 4 times (sentences 1-4) on Oct 1, 3, 5, 7, 9, then 12 times on Oct 11 (a15, Ledger):
      a baseline whose spread is above the floor of 1.
    - Putin beside Kim on Oct 10 (a09) and Oct 11 (a10, 3 times), alone in a11 (Ledger, Oct 11),
      and beside Seoul on Nov 4 (a14): 6 mentions, 4 articles; two sources on Oct 11.
    - Seoul beside Kim on Oct 4 (GPE), with Moon on Nov 3 (GPE) and Putin on Nov 4 (LOC).
    - Moon on Nov 3 and in a16 (Nov 5, detected Dutch, weak evidence: sent to NER);
      a17 (Nov 6, German) never reached NER: the one other-language article.
    18 articles, 52 sentences."""
    out = []
    for day in range(10):
        lee = [[LEE]] * 4 if day % 2 == 0 else []
        first = [KIM, SEOUL] if day == 3 else [KIM, PUTIN] if day == 9 else [KIM]
        out.append(build(day, day, "Wire" if day % 2 else "Ledger", [first, *lee]))
    out.append(build(10, 10, "Wire", [[KIM, PUTIN]] * 3 + [[KIM]] * 2))
    out.append(build(11, 10, "Ledger", [[PUTIN]]))
    out.append(build(12, 10, "Wire", [[KIM]], story=10))
    out.append(build(13, 33, "Wire", [[SEOUL, MOON]]))
    out.append(build(14, 34, "Wire", [[SEOUL_LOC, PUTIN]]))
    out.append(build(15, 10, "Ledger", [[LEE]] * 12))
    out.append(build(16, 35, "Ledger", [[MOON]], language="nl"))
    out.append(build(17, 36, "Ledger", [], language="de"))
    return out


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The corpus above, committed by the pipeline's own resolution, aggregation and commit."""
    built = corpus()
    articles = [a for a, _, _ in built]
    mentions = [m for _, ms, _ in built for m in ms]
    sentences = [s for _, _, ss in built for s in ss]
    w = Warehouse(tmp_path_factory.mktemp("views"))
    staging = w.staging("r")
    staging.write("articles", to_arrow("articles", articles))
    staging.write("mentions", to_arrow("mentions", mentions))
    staging.write("sentences", to_arrow("sentences", sentences))
    counts, acronyms, caps = resolution_inputs(w, staging)
    staging.write("entity_keys", to_arrow("entity_keys", resolve_keys(counts, acronyms, counts=counts)))
    compute_aggregates(w, staging, model="m")
    commit_run(w, staging, {"run_id": "r", "started_at": DAY0, "finished_at": DAY0, "inputs": [],
                            "model": "m", "model_version": "1", "n_inputs": 18, "n_duplicates": 0,
                            "n_new_articles": 18, "n_other_language": 1,
                            "n_mentions": len(mentions), "n_rejects": 0, "stage_seconds": "{}"})
    return w


def test_the_fixture_is_the_corpus_its_docstring_describes(warehouse):
    _, rows = query(warehouse, "SELECT entity_id, n_mentions, n_articles, n_stories, n_sentences "
                               "FROM entities ORDER BY entity_id")
    assert rows == [("person:kim", 16, 12, 11, 16), ("person:lee", 32, 6, 6, 32),
                    ("person:moon", 2, 2, 2, 2), ("person:putin", 6, 4, 4, 6),
                    ("place:seoul", 3, 3, 3, 3)]
    assert query(warehouse, "SELECT count(*) FROM sentences")[1] == [(52,)]


def test_top_entities_ranks_within_label_and_month(warehouse):
    _, rows = query(warehouse, "SELECT month, label, name, n_mentions, n_articles, n_stories, rank "
                               "FROM top_entities ORDER BY month, label, rank")
    oct_, nov = date(2025, 10, 1), date(2025, 11, 1)
    assert rows == [(oct_, "GPE", "Seoul", 1, 1, 1, 1),
                    (oct_, "PERSON", "Lee", 32, 6, 6, 1),
                    (oct_, "PERSON", "Kim", 16, 12, 11, 2),
                    (oct_, "PERSON", "Putin", 5, 3, 3, 3),
                    (nov, "GPE", "Seoul", 2, 2, 2, 1),  # one of them tagged LOC: still Seoul, GPE
                    (nov, "PERSON", "Moon", 2, 2, 2, 1),
                    (nov, "PERSON", "Putin", 1, 1, 1, 2)]


def test_entity_timeline_sums_sources_per_day(warehouse):
    _, rows = query(warehouse, "SELECT entity_id, day, n_mentions, n_articles, n_stories, "
                               "n_sources FROM entity_timeline WHERE day = DATE '2025-10-11' "
                               "ORDER BY entity_id")
    assert rows == [("person:kim", date(2025, 10, 11), 6, 2, 1, 1),  # a copy: one story
                    ("person:lee", date(2025, 10, 11), 12, 1, 1, 1),
                    ("person:putin", date(2025, 10, 11), 4, 2, 2, 2)]  # Wire and Ledger


def _trending(daily: dict[date, int]) -> list[tuple]:
    """(day, n, mean, sd, z) for each day with >= 3 mentions, over the 28 days before it; written
    from the definition, not from the view."""
    out = []
    for day, n in sorted(daily.items()):
        window = [daily.get(day - timedelta(days=k), 0) for k in range(1, 29)]
        mean = sum(window) / 28
        sd = math.sqrt(sum(x * x for x in window) / 28 - mean * mean)
        if n >= 3:
            out.append((day, n, round(mean, 3), round(sd, 3), round((n - mean) / max(sd, 1), 3)))
    return out


def test_trending_scores_a_day_against_its_trailing_baseline(warehouse):
    _, rows = query(warehouse, "SELECT name, day, n_mentions, baseline_mean, baseline_sd, z_score "
                               "FROM trending ORDER BY name, day")
    oct_ = [date(2025, 10, d) for d in range(1, 12)]
    kim = _trending({**{d: 1 for d in oct_[:10]}, oct_[10]: 6})
    lee = _trending({**{d: 4 for d in oct_[0:10:2]}, oct_[10]: 12})
    putin = _trending({oct_[9]: 1, oct_[10]: 4, date(2025, 11, 4): 1})
    assert rows == [("Kim", *r) for r in kim] + [("Lee", *r) for r in lee] + [
        ("Putin", *r) for r in putin]
    # the hand-checked row: Lee on Oct 11, 12 mentions against 20 in the 28 days before
    mean, sd = 20 / 28, math.sqrt(80 / 28 - (20 / 28) ** 2)
    assert ("Lee", oct_[10], 12, round(mean, 3), round(sd, 3), round((12 - mean) / sd, 3)) in rows
    assert sd > 1 and [r for r in rows if r[0] == "Lee" and r[4] > 1]  # spreads above the floor


def test_cooccurring_lists_partners_with_counts_and_pmi(warehouse):
    _, rows = query(warehouse, "SELECT entity_id, n_articles, n_sentences, round(pmi, 4), "
                               "round(sentence_pmi, 4) FROM cooccurring('person:kim')")
    # 18 articles, 52 sentences; Kim in 12 articles and 16 sentences, Putin 4 and 6, Seoul 3
    # and 3, Lee 6 and 32. PMI = log2(n_ab * N / (n_a * n_b)).
    assert rows == [("person:putin", 2, 4, round(math.log2(2 * 18 / (12 * 4)), 4),
                     round(math.log2(4 * 52 / (16 * 6)), 4)),
                    ("place:seoul", 1, 1, round(math.log2(1 * 18 / (12 * 3)), 4),
                     round(math.log2(1 * 52 / (16 * 3)), 4)),
                    ("person:lee", 5, 0, round(math.log2(5 * 18 / (12 * 6)), 4), None)]
    assert rows[0][3] < 0 < rows[0][4] and rows[2][3] > 0  # signs that a wrong formula flips


def test_mention_context_reads_each_mention_back_in_its_sentence(warehouse):
    _, rows = query(warehouse, "SELECT article_id, sentence_index, text, sentence, start_char, "
                               "end_char FROM mention_context")
    texts = dict(query(warehouse, "SELECT article_id, text FROM articles")[1])
    assert len(rows) == 59
    for article_id, index, text, sentence, start, end in rows:
        assert sentence.startswith(f"In sentence {index} of article {int(article_id[1:])},")
        assert text in sentence and texts[article_id][start:end] == text


RECOMPUTED = {
    # written independently of tasks/sql/aggregate_*.sql, straight from mentions and articles
    "SELECT entity_id, n_mentions, n_articles, n_stories, n_sentences, first_seen, "
    "last_seen FROM entities": """
        SELECT m.entity_id, count(*), count(DISTINCT m.article_id),
               count(DISTINCT a.story_id), count(DISTINCT m.article_id || '#' || m.sentence_index),
               min(a.published_at), max(a.published_at)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY m.entity_id""",
    "SELECT day, entity_id, source, n_mentions, n_articles, n_stories FROM entity_daily": """
        SELECT CAST(a.published_at AS DATE), m.entity_id, a.source, count(*),
               count(DISTINCT m.article_id), count(DISTINCT a.story_id)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY 1, 2, 3""",
    "SELECT week, entity_id, source, n_mentions, n_articles, n_stories FROM entity_weekly": """
        SELECT CAST(a.published_at::DATE - CAST(isodow(a.published_at) - 1 AS INTEGER) AS DATE),
               m.entity_id, a.source, count(*), count(DISTINCT m.article_id),
               count(DISTINCT a.story_id)
        FROM {mentions} m, articles a WHERE m.article_id = a.article_id GROUP BY 1, 2, 3""",
    "SELECT entity_id, surface, label, n_mentions, n_articles FROM entity_aliases": """
        SELECT entity_id, text, label, count(*), count(DISTINCT article_id) FROM {mentions}
        GROUP BY entity_id, text, label""",
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
    assert dict(query(warehouse, "SELECT entity_id, (name, label) FROM entities")[1]) == {
        e: tuple(v.values()) for e, v in names_and_labels(warehouse, model).items()}


FULL_RULES = {"self", "alias_file", "gazetteer", "label", "plural"}  # rules that keep a full name


def names_and_labels(warehouse: Warehouse, model: str) -> dict[str, dict]:
    """entity_id -> {name, label} by the README's rules, computed here in Python: an alias file's
    name and label win; else the label most of its full-form mentions carry (then most mentions,
    then alphabetical), and its most frequent full form (mixed case before long ALL-CAPS forms,
    then longer, then alphabetical)."""
    from collections import Counter

    keys = {k: (rule, name, label) for k, rule, name, label in query(
        warehouse, "SELECT key, rule, canonical_name, canonical_label FROM entity_keys")[1]}
    labels: dict[str, Counter] = {}
    forms: dict[str, Counter] = {}
    full: dict[tuple, bool] = {}
    out: dict[str, dict] = {}
    for entity, key, name, label in query(warehouse, "SELECT entity_id, key, name, label FROM "
                                          "mentions WHERE model = ?", [model])[1]:
        rule, canonical_name, canonical_label = keys.get(key, ("self", None, None))
        is_full = rule in FULL_RULES
        labels.setdefault(entity, Counter())[(label, "full")] += is_full
        labels[entity][(label, "all")] += 1
        forms.setdefault(entity, Counter())[name] += 1
        full[(entity, name)] = full.get((entity, name), False) or is_full
        if canonical_name:
            out[entity] = {"name": canonical_name, "label": canonical_label}
    for entity, votes in labels.items():
        if entity in out:
            continue
        label = min({lab for lab, _ in votes},
                    key=lambda lab: (-votes[(lab, "full")], -votes[(lab, "all")], lab))
        name = min(forms[entity], key=lambda n: (not full[(entity, n)],
                                                 n == n.upper() and len(n) > 5,
                                                 -forms[entity][n], -len(n), n))
        out[entity] = {"name": name, "label": label}
    return out


def test_every_aggregate_equals_its_recomputation_from_mentions(warehouse):
    assert_aggregates_match_mentions(warehouse)


def test_the_run_reports_movers_are_the_trending_rows_of_the_latest_day(warehouse):
    from tasks.warehouse import load_sql

    _, movers = query(warehouse, load_sql("report_run_movers"), {"limit": 10})
    _, trending = query(warehouse, "SELECT name, label, n_mentions, baseline_mean, z_score "
                                   "FROM trending WHERE day = (SELECT max(day) FROM trending) "
                                   "ORDER BY z_score DESC, name")
    assert movers == trending and len(movers) == 3  # Kim, Lee and Putin on Oct 11
