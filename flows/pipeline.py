"""The newsner flows: news in, entity warehouse out. Each line of a flow's body is one stage."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from contextlib import contextmanager
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from tasks.aggregate import aggregate_entities
from tasks.extract import extract_mentions
from tasks.faults import fault_point
from tasks.ingest import ingest_chunk, plan_inputs
from tasks.ner import model_language
from tasks.places import locate_places
from tasks.propagate import propagate_mentions
from tasks.resolve import resolve_entities
from tasks.settings import Settings
from tasks.sources import Plan
from tasks.speech import find_quotes_and_tone
from tasks.store import Run, commit, select_for_reprocess, upgrade_warehouse
from tasks.warehouse import Warehouse, writer_lock
from tasks.workers import close_pools, ner_config, ner_processes, running_processes

# Chunks read ahead of NER: enough to keep the NER workers busy, few enough to bound memory.
READ_AHEAD = 2


def start_run(inputs: tuple[str, ...], settings: Settings) -> Run:
    """Return the run: its id (the Prefect flow run's), inputs, warehouse and model."""
    return Run(run_id=flow_run.get_id() or uuid.uuid4().hex, inputs=inputs,
               warehouse=Warehouse(Path(settings.warehouse), settings.lock_wait),
               model=settings.model)


class NerStream:
    """NER on each staged chunk as a task of its own, a few chunks behind the reading; the rows
    it returns are staged as the chunk's parts."""

    def __init__(self, run: Run, settings: Settings, n_bytes: int):
        self.run, self.config = run, ner_config(settings)
        self.processes = ner_processes(n_bytes, setting=settings.n_process,
                                       on_dask=bool(settings.dask_address)
                                       ) or running_processes(self.config)
        self.pending: deque = deque()
        self.counts: Counter = Counter()
        self.model_version: str | None = None

    def submit(self, part: int) -> None:
        articles = self.run.staging.read_part("ner_input", part, table="articles")
        if articles.num_rows:
            self.pending.append((part, extract_mentions.submit(
                articles, self.run.run_id, config=self.config, processes=self.processes)))
        while len(self.pending) > READ_AHEAD:
            self._stage(*self.pending.popleft())

    def finish(self) -> dict:
        while self.pending:
            self._stage(*self.pending.popleft())
        return {**self.counts, "model_version": self.model_version}

    def _stage(self, part: int, future) -> None:
        found = future.result()
        for name, table in found["tables"].items():
            self.run.staging.write(f"ner_{name}" if name in ("mentions", "acronyms", "names")
                                   else name, table, part)
        self.model_version = found["model_version"]
        fault_point("ner:staged")
        self.counts.update({k: v for k, v in found.items() if k.startswith(("n_", "seconds_"))})


def stream_inputs(run: Run, plan: Plan, settings: Settings) -> dict:
    """Read, clean and select the plan chunk by chunk; each chunk's NER runs while the next is
    read. Return the summed counts."""
    ner = NerStream(run, settings, plan.n_bytes)
    language = model_language(settings.model)
    counts: Counter = Counter({"n_unchanged_sources": plan.n_unchanged})
    position, part = (0, 0), 0
    while position is not None:
        read = ingest_chunk(run.warehouse, run.staging, run.run_id, plan, position, part,
                            settings, model_language=language)
        position = read.pop("next")
        counts.update(read)
        ner.submit(part)
        part += 1
    return {**counts, **ner.finish()}


def reprocess_stored(run: Run, settings: Settings) -> dict:
    """Send the stored articles the run's model has not processed to NER, a chunk at a time."""
    ner = NerStream(run, settings, n_bytes=10 * settings.chunk_size * 1_000)
    counts: Counter = Counter({"n_duplicates": 0, "n_new_articles": 0})
    after, part = "", 0
    while after is not None:
        selected = select_for_reprocess(run, part, after=after, limit=settings.chunk_size)
        after = selected.pop("last")
        counts.update(selected)
        ner.submit(part)
        part += 1
    return {**counts, **ner.finish()}


@contextmanager
def holding(run: Run):
    """Hold the warehouse's writer lock for the run, and stop NER workers when it ends: a run
    stopped by a signal waits for them to exit (the process ends right after, and nothing of them
    may be left behind), a finished one lets them exit while it reports."""
    try:
        with writer_lock(run.warehouse):
            yield
    except BaseException:
        close_pools(wait=True)
        raise
    close_pools(wait=False)


def with_runner(settings: Settings):
    """Return newsner_run on the Dask cluster the settings name, or as it is."""
    if not settings.dask_address:
        return newsner_run
    from prefect_dask import DaskTaskRunner

    return newsner_run.with_options(task_runner=DaskTaskRunner(address=settings.dask_address))


@flow(name="newsner-run", log_prints=True)
def newsner_run(paths: list[str], settings: Settings | None = None) -> dict:
    """Ingest `paths`, clean, find entities, aggregate and commit; return the run summary."""
    settings = settings or Settings()
    run = start_run(tuple(map(str, paths)), settings)
    with holding(run):
        upgraded = upgrade_warehouse(run.warehouse)
        plan = plan_inputs(run.warehouse, list(run.inputs), full=settings.full)
        extracted = stream_inputs(run, plan, settings)
        propagated = propagate_mentions(run.warehouse, run.staging, model=settings.model)
        placed = locate_places(run.warehouse, run.staging, chunk_size=settings.chunk_size)
        quoted = find_quotes_and_tone(run.warehouse, run.staging, chunk_size=settings.chunk_size)
        close_pools(wait=False)  # the last stage on NER's workers: their memory goes back now
        resolved = resolve_entities(run.warehouse, run.staging, alias_file=settings.aliases)
        aggregated = aggregate_entities(run.warehouse, run.staging, model=settings.model)
        return commit(run, [upgraded, extracted, propagated, placed, quoted, resolved, aggregated])


@flow(name="newsner-reprocess", log_prints=True)
def newsner_reprocess(settings: Settings | None = None) -> dict:
    """Run NER again over the stored articles with settings.model; aggregates switch to it."""
    settings = settings or Settings()
    run = start_run(("reprocess",), settings)
    with holding(run):
        upgraded = upgrade_warehouse(run.warehouse)
        extracted = reprocess_stored(run, settings)
        propagated = propagate_mentions(run.warehouse, run.staging, model=settings.model)
        placed = locate_places(run.warehouse, run.staging, chunk_size=settings.chunk_size)
        quoted = find_quotes_and_tone(run.warehouse, run.staging, chunk_size=settings.chunk_size)
        close_pools(wait=False)  # the last stage on NER's workers: their memory goes back now
        resolved = resolve_entities(run.warehouse, run.staging, alias_file=settings.aliases)
        aggregated = aggregate_entities(run.warehouse, run.staging, model=settings.model)
        return commit(run, [upgraded, extracted, propagated, placed, quoted, resolved, aggregated])
