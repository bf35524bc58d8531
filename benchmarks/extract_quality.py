"""Article-text extraction quality on ../shared/data/html-dev, scored by 4-gram token shingles.

Scoring (upstream article-extraction-benchmark method): tokens are `\\w+`, each text a multiset
of 4-gram shingles; per page TP/FP/FN are normalised to sum to 1; precision and recall are means
over pages; F1 is their harmonic mean. Usage: python -m benchmarks.extract_quality
"""

from __future__ import annotations

import json
import re
from collections import Counter

from benchmarks.common import DATA, require
from tasks.clean import clean_article
from tasks.readers import Options, format_of, gunzip, read_document
from tasks.settings import Settings

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    """Return the multiset of n-gram token shingles of `text`."""
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def page_scores(gold: str, predicted: str) -> tuple[float, float]:
    """Return (precision, recall) of one page, from normalised TP/FP/FN."""
    g, p = shingles(gold), shingles(predicted)
    tp, fp, fn = sum((g & p).values()), sum((p - g).values()), sum((g - p).values())
    total = tp + fp + fn
    if total == 0:
        return 1.0, 1.0
    tp, fp, fn = tp / total, fp / total, fn / total
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def score(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    """Return (precision, recall, F1) over (gold, predicted) pages."""
    scores = [page_scores(gold, predicted) for gold, predicted in pairs]
    precision = sum(s[0] for s in scores) / len(scores)
    recall = sum(s[1] for s in scores) / len(scores)
    return precision, recall, 2 * precision * recall / (precision + recall)


def pipeline_text(data: bytes, name: str, settings: Settings) -> str:
    """Return the text newsner stores for one saved page (ingest + clean, as in a run)."""
    fmt, gzipped = format_of(name)
    data = gunzip(data, settings.max_bytes) if gzipped else data
    options = Options(max_bytes=settings.max_bytes, min_chars=settings.min_chars)
    records = [i.record for i in read_document(data, fmt, origin=name, options=options) if i.record]
    if not records:
        return ""
    article, _ = clean_article(records[0], max_chars=settings.max_chars)
    return article["text"] if article else ""


def main() -> None:
    root = require(DATA / "html-dev")
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    settings = Settings()
    pairs = []
    for key, page in sorted(truth.items()):
        name = f"{key}.html.gz"
        pairs.append((page["articleBody"], pipeline_text((root / "html" / name).read_bytes(), name,
                                                         settings)))
    precision, recall, f1 = score(pairs)
    print(f"html-dev: {len(pairs)} pages, newsner ingest + clean (4-gram shingles)")
    print(f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")


if __name__ == "__main__":
    main()
