"""Merge quality on a hand-labelled set written for this project (tests/fixtures/merge_gold.jsonl):
every [[surface|entity]] is a mention and the entity a person would say it names. Pairwise
precision and recall of the pipeline's entities over the mentions both the model and the gold
have."""

from __future__ import annotations

import json
import re
from itertools import combinations

import pytest

from tasks.ner import acronym_rows, find_mentions
from tasks.resolve import resolve_mentions
from tasks.settings import NAMED_LABELS
from tests.conftest import ROOT

_MARK = re.compile(r"\[\[(.+?)\|(.+?)\]\]")


def parse_gold(line: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Return (plain text, [(start, end, gold entity)]) of one marked-up article."""
    doc = json.loads(line)
    text, spans, last = "", [], 0
    for match in _MARK.finditer(doc["text"]):
        text += doc["text"][last:match.start()]
        spans.append((len(text), len(text) + len(match[1]), match[2]))
        text += match[1]
        last = match.end()
    return text + doc["text"][last:], spans


def pairwise(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """Return (precision, recall) of predicted-same against gold-same over mention pairs."""
    tp = fp = fn = 0
    for (gold_a, pred_a), (gold_b, pred_b) in combinations(pairs, 2):
        same_gold, same_pred = gold_a == gold_b, pred_a == pred_b
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
    return tp / (tp + fp), tp / (tp + fn)


def test_gold_set_is_big_and_varied_enough():
    lines = (ROOT / "tests" / "fixtures" / "merge_gold.jsonl").read_text().splitlines()
    spans = [s for line in lines for s in parse_gold(line)[1]]
    assert len(lines) >= 12 and len(spans) >= 150
    assert len({s[2] for s in spans}) >= 60


@pytest.mark.slow
def test_merge_precision_and_recall_on_the_labelled_set(nlp):
    lines = (ROOT / "tests" / "fixtures" / "merge_gold.jsonl").read_text().splitlines()
    articles, gold = [], {}
    for number, line in enumerate(lines):
        text, spans = parse_gold(line)
        articles.append({"article_id": f"g{number}", "text": text})
        gold[f"g{number}"] = spans
    mentions = find_mentions(nlp, articles, labels=NAMED_LABELS)
    acronyms = [(r["acronym"], r["key"]) for r in acronym_rows(articles, mentions)]
    entity_of = resolve_mentions(mentions, acronyms)
    pairs = []
    for m in mentions:
        overlapping = [g for g in gold[m["article_id"]]
                       if g[0] < m["end_char"] and m["start_char"] < g[1]]
        if len(overlapping) == 1:
            pairs.append((overlapping[0][2], entity_of[m["key"]]))
    precision, recall = pairwise(pairs)
    print(f"\nmerge quality: {len(pairs)} matched mentions, pairwise precision {precision:.3f}, "
          f"recall {recall:.3f}")
    assert len(pairs) >= 120
    assert precision >= 0.99 and recall >= 0.90
