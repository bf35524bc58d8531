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
