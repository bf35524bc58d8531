"""Stage helpers: timing for the run summary and the benchmarks, and a logger that works in
and out of a Prefect run."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


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


def stage_logger() -> logging.Logger | logging.LoggerAdapter:
    """Return the Prefect run logger inside a flow or task run, else a plain `newsner` logger."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("newsner")
