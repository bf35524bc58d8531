"""Stage timing: every stage reports how long it took, for the run summary and the benchmarks."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable


def timed(stage: str) -> Callable:
    """Decorate a stage function returning a counts dict: add `seconds_<stage>` to it."""
    def decorate(fn: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(fn)
        def run(*args, **kwargs) -> dict:
            start = time.perf_counter()
            counts = fn(*args, **kwargs)
            counts[f"seconds_{stage}"] = round(time.perf_counter() - start, 3)
            return counts
        return run
    return decorate
