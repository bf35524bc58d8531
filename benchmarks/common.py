"""Helpers shared by the benchmarks: where the development data is, and a timer."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def require(path: Path) -> Path:
    """Return `path`, or exit with a one-line message when the shared data is absent."""
    if not path.exists():
        sys.exit(f"benchmark data {path} is absent: it lives in ../shared/data beside the project")
    return path


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    """Return the first `limit` objects of a JSONL file."""
    out = []
    with require(path).open(encoding="utf-8") as handle:
        for line in handle:
            out.append(json.loads(line))
            if limit and len(out) >= limit:
                break
    return out


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Return (seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def emit(summary: dict, out: Path | None) -> None:
    """Print a benchmark's JSON summary, and write it to `out` when one is given."""
    print(json.dumps(summary))
    if out:
        out.write_text(json.dumps(summary, indent=1))


def bbc_ner(model: str, limit: int | None = None) -> dict:
    """Return the BBC corpus as a run's NER leaves it (articles, mentions, sentences) and the
    seconds cleaning, NER and propagation took in this process. Kept in benchmarks/out/ so the
    benchmarks that measure later stages against NER (bench-geo, bench-quotes) pay for it once;
    delete the file to measure NER again."""
    import pickle

    from benchmarks.ner_quality import run_pipeline
    from tasks.settings import Settings

    cache = ROOT / "benchmarks" / "out" / f"bbc-ner-{model}-{limit or 'all'}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    docs = [{"doc_id": d["id"], "text": d["text"], "entities": []}
            for d in read_jsonl(DATA / "bbc-news" / "articles.jsonl", limit)]
    sentences: list[dict] = []
    start = time.perf_counter()
    articles, mentions, _ = run_pipeline(docs, Settings(model=model), sentences)
    seconds = time.perf_counter() - start
    for m in mentions:
        m.setdefault("model", model)
    for s in sentences:
        s.setdefault("model", model)
    found = {"articles": articles, "mentions": mentions, "sentences": sentences,
             "ner_seconds": round(seconds, 2)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(found))
    return found
