"""NER's worker processes: each loads the spaCy pipeline once and turns articles into rows
(mentions, sentences, acronym definitions, the form counts propagation reads). Stages after NER
spread their work over the same processes once NER is done (tasks/parts.computed).

Nothing here imports Prefect, DuckDB or the stages: a worker starts with the pipeline and the pure
cores it runs, nothing more.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tasks.clean import goes_to_ner
from tasks.ner import acronym_rows, find_mentions, load_nlp, model_version
from tasks.recall import candidate_forms, corpus_counts, with_names

OUTPUTS = ("mentions", "sentences", "acronyms", "name_forms", "names")
SMALL_RUN_BYTES = 1_000_000  # below this much input, NER runs in the run's own process, unless
                             # the command started a worker for it (start_workers)
SUB_BATCH = 64          # articles a worker takes at a time
SUB_BATCH_CHARS = 20_000   # and at most this much text: a worker's memory follows the text
                           # it parses at once (+250 MB at 60,000, +130 MB at 20,000; equal rows)


@dataclass(frozen=True)
class NerConfig:
    """What NER needs to know: the pipeline, the labels kept, the pattern file."""

    model: str
    labels: tuple[str, ...]
    batch_size: int = 64
    patterns: str | None = None  # path of a JSONL entity-ruler pattern file


def extract_rows(nlp, articles: Sequence[dict], config: NerConfig) -> dict:
    """Return the rows NER gives for `articles` (dicts of NER_COLUMNS): those in the pipeline's
    language are parsed, the others counted. Besides the warehouse's rows, `names` holds each
    parsed article's bare names and the forms whose corpus counts propagation reads for it
    (tasks/recall.py)."""
    fits = [dict(a) for a in articles if goes_to_ner(a, nlp.lang)]
    with_names(fits)  # NER's view of each text and its bare names, which propagation reads too
    sentences: list[dict] = []
    mentions = find_mentions(nlp, fits, labels=config.labels, batch_size=config.batch_size,
                             sentences=sentences)
    version = model_version(nlp)
    for m in mentions:
        m.update(model=config.model, model_version=version)
    for s in sentences:
        s["model"] = config.model
    counts = corpus_counts(fits, mentions)
    return {"mentions": mentions, "sentences": sentences,
            "acronyms": acronym_rows(fits, mentions), "name_forms": counts.rows(config.model),
            "names": [{"article_id": a["article_id"], "starts": [s for s, _ in a["names"]],
                       "ends": [e for _, e in a["names"]],
                       "forms": sorted(candidate_forms(a["view"], a["names"]))} for a in fits],
            "model_version": version, "n_words": sum(len(a["text"].split()) for a in fits),
            "n_other_language": len(articles) - len(fits)}


def _merge(parts: list[dict]) -> dict:
    """Return the rows of several batches as one (a form's name_forms rows are summed later, in
    Arrow: see summed_forms)."""
    merged: dict = {name: [] for name in OUTPUTS}
    for part in parts:
        for name in OUTPUTS:
            merged[name] += part[name]
    merged["model_version"] = next((p["model_version"] for p in parts), "unknown")
    merged["n_words"] = sum(p["n_words"] for p in parts)
    merged["n_other_language"] = sum(p["n_other_language"] for p in parts)
    merged["workers"] = sorted({pid for p in parts for pid in p.get("workers", [])})
    return merged


_WORKER: tuple | None = None  # (nlp, config) in a pool worker


WORKERS_READY_SECONDS = 300  # how long a worker waits for the others to load the pipeline


PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent() -> None:
    """In a worker: exit as soon as the process that started it is gone, however it ended (even
    killed), so no worker outlives its run or holds its output open."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="newsner-parent-watch", daemon=True).start()


def _start_worker(config: NerConfig, ready) -> None:
    global _WORKER
    _exit_with_parent()
    _WORKER = (load_nlp(config.model, config.patterns), config)
    ready.wait(WORKERS_READY_SECONDS)  # no worker takes a batch before all have loaded


def _work(articles: list[dict]) -> dict:
    nlp, config = _WORKER
    return {**extract_rows(nlp, articles, config), "workers": [os.getpid()]}


class NerPool:
    """Worker processes that each load the pipeline once and turn articles into rows."""

    def __init__(self, config: NerConfig, processes: int):
        self.processes = processes
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            processes, mp_context=context, initializer=_start_worker,
            initargs=(config, context.Barrier(processes)))
        self.warm()

    def warm(self) -> None:
        """Start every worker now (they load the pipeline while the run starts, and wait for
        each other: a chunk is spread over all of them, never over the first one ready)."""
        for _ in range(self.processes):
            self._executor.submit(len, [])

    def run(self, articles: list[dict], *, timeout: float) -> dict:
        """Return the rows of `articles`, spread over the workers in small batches; raise
        TimeoutError when they take more than `timeout` seconds."""
        size = even_batch_size(len(articles), self.processes)
        futures = [self._executor.submit(_work, batch)
                   for batch in sub_batches(articles, size, SUB_BATCH_CHARS)]
        deadline = time.monotonic() + timeout
        return _merge([f.result(timeout=max(deadline - time.monotonic(), 0)) for f in futures])

    def submit(self, fn, *args):
        """Run `fn(*args)` on a worker (a module-level function); return its future."""
        return self._executor.submit(fn, *args)

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers; without `wait`, return before they exit (the interpreter waits for
        them at its own exit)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)


def with_rows(fn: Callable[..., Any], *args: Any) -> Any:
    """Return `fn(*args)` with each Arrow table among `args` as its rows (a list of dicts): a
    stage after NER hands a worker Arrow tables, cheap to send, and the rows are made there."""
    return fn(*[arg.to_pylist() if isinstance(arg, pa.Table) else arg for arg in args])


def even_batch_size(n_articles: int, processes: int) -> int:
    """Return the batch size that spreads `n_articles` over `processes` workers in equal batches
    of at most SUB_BATCH: a chunk of 171 on two workers is four of 43, not 64, 64 and a last 43
    that one worker runs while the other waits."""
    batches = max(1, -(-n_articles // SUB_BATCH))
    batches = -(-batches // processes) * processes
    return max(1, -(-n_articles // batches))


def sub_batches(articles: list[dict], size: int, chars: int) -> Iterator[list[dict]]:
    """Yield `articles` in order, in batches of at most `size` articles and `chars` characters
    of text (an article longer than that is a batch of its own)."""
    batch: list[dict] = []
    held = 0
    for article in articles:
        length = len(article["text"])
        if batch and (len(batch) == size or held + length > chars):
            yield batch
            batch, held = [], 0
        batch.append(article)
        held += length
    if batch:
        yield batch


_POOLS: dict[tuple[NerConfig, int], NerPool] = {}


def ner_pool(config: NerConfig, processes: int) -> NerPool:
    """Return this process's pool for `config` with `processes` workers, started on first use."""
    if (config, processes) not in _POOLS:
        _POOLS[config, processes] = NerPool(config, processes)
    return _POOLS[config, processes]


def idle_workers() -> NerPool | None:
    """Return this process's NER worker pool, for stages after NER to spread their work over
    (None without one: a small run, or NER on Dask)."""
    return next(iter(_POOLS.values()), None)


def close_pools(*, wait: bool = True) -> None:
    """Stop every worker pool of this process (see NerPool.close)."""
    while _POOLS:
        _POOLS.popitem()[1].close(wait=wait)


def running_processes(config: NerConfig) -> int:
    """Return the worker count of this process's pool for `config` (0 when none runs): a pool
    the command started before the run (start_workers) serves the run, even a small one."""
    return max((processes for (started, processes) in _POOLS if started == config), default=0)


def ner_processes(n_bytes: int, *, setting: int, on_dask: bool) -> int:
    """Return how many worker processes NER uses: none on Dask (each worker is one) or for small
    runs, the setting when given, else one per core."""
    if on_dask:
        return 0
    if setting:
        return setting
    return 0 if n_bytes < SMALL_RUN_BYTES else os.cpu_count() or 1


def ner_config(settings) -> NerConfig:
    """Return what NER needs from the run's Settings."""
    return NerConfig(model=settings.model, labels=tuple(settings.labels),
                     batch_size=settings.batch_size,
                     patterns=str(settings.patterns) if settings.patterns else None)


def start_workers(settings, paths: Sequence[str]) -> int:
    """Before a run, before Prefect loads (the command's first step): start NER's worker
    processes for what the run will read, one per core for a large run and one for a small one,
    so the pipeline loads on the other cores meanwhile. Nothing when there is nothing to read or
    NER runs on Dask. Return how many bytes the run will read."""
    from functools import partial
    from pathlib import Path

    from tasks.sources import plan_paths
    from tasks.warehouse import Warehouse, stored_sources

    n_bytes = plan_paths(paths, partial(stored_sources, Warehouse(Path(settings.warehouse))),
                         full=settings.full).n_bytes
    if n_bytes and not settings.dask_address:
        ner_pool(ner_config(settings), ner_processes(n_bytes, setting=settings.n_process,
                                                     on_dask=False) or 1)
    return n_bytes

