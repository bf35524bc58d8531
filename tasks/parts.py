"""The articles a stage after NER works on, a part at a time: the run's own staged parts, then,
once after the migration that added the stage, the articles the warehouse stored before it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.warehouse import Staging, Warehouse, pending, pending_inputs
from tasks.workers import idle_workers, with_rows

BACKFILL_PART = 1_000_000  # staged parts of stored articles are numbered from here
# part, articles, mentions, sentences: Arrow tables, which cost little to send to a worker; the
# stage's pure function gets them as rows there (tasks/workers.with_rows)
Chunk = tuple[int, pa.Table, pa.Table, pa.Table]


def run_parts(staging: Staging, labels: Sequence[str] | None = None) -> Iterator[Chunk]:
    """Yield each staged part of the run's final mentions (of `labels`; all when None) with the
    articles they are in and the sentences of the part."""
    for path in staging.parts("mentions"):
        part = int(path.stem.split("-")[1])
        mentions = staging.read_part("mentions", part)
        if labels is not None:
            mentions = mentions.filter(pc.is_in(mentions["label"], pa.array(labels, pa.string())))
        if not mentions.num_rows:
            continue
        articles = staging.read_part("ner_input", part).select(["article_id", "text"])
        articles = articles.filter(pc.is_in(articles["article_id"],
                                            pc.unique(mentions["article_id"])))
        yield part, articles, mentions, staging.read_part("sentences", part)


def stored_parts(warehouse: Warehouse, staging: Staging, *, flag: str, done: str,
                 labels: Sequence[str] | None, chunk_size: int, flag_part: int) -> Iterator[Chunk]:
    """Yield the stored articles still without rows in table `done` while the warehouse's meta
    holds `flag` (set by the migration), `chunk_size` at a time; then stage the flag's removal,
    which the commit applies with the rows (as part `flag_part` of staged meta_done)."""
    if not pending(warehouse, flag):
        return
    after, part = "", BACKFILL_PART
    while after is not None:
        articles, mentions, sentences = pending_inputs(warehouse, done=done, labels=labels,
                                                       after=after, limit=chunk_size)
        after = articles["article_id"][-1].as_py() if articles.num_rows else None
        if articles.num_rows:
            yield part, articles, mentions, sentences
            part += 1
    staging.write("meta_done", pa.table({"key": [flag]}), flag_part)


def computed(fn: Callable[..., Any], chunks: Iterable[tuple], *, ahead: int = 2
             ) -> Iterator[tuple[tuple, Any]]:
    """Yield each chunk (part, *arguments) with `fn(*arguments)`, in order. When the run has NER
    worker processes (idle once NER is done) `fn` runs there, `ahead` chunks in advance, so a
    stage after NER uses every core; otherwise here. `fn` must be a module-level function of a
    module that does not import Prefect (a worker imports it: tasks/workers.py)."""
    workers = idle_workers()
    if workers is None:
        for chunk in chunks:
            yield chunk, with_rows(fn, *chunk[1:])
        return
    pending: deque = deque()
    for chunk in chunks:
        pending.append((chunk, workers.submit(with_rows, fn, *chunk[1:])))
        while len(pending) > ahead:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()
