"""The newsner flow: news files in, entity warehouse out. Each line of its body is one stage."""

from __future__ import annotations

import uuid
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from tasks.aggregate import aggregate_entities
from tasks.clean import clean_articles
from tasks.ingest import read_inputs
from tasks.ner import extract_mentions, extract_mentions_in_batches, model_language
from tasks.propagate import propagate_mentions
from tasks.resolve import resolve_entities
from tasks.settings import Settings
from tasks.store import (
    Run,
    commit,
    select_articles_to_reprocess,
    select_new_articles,
    upgrade_warehouse,
)
from tasks.stories import group_stories
from tasks.warehouse import Warehouse, writer_lock


def find_entities(run: Run, settings: Settings) -> dict:
    """NER: one task here, or batches spread over a Dask cluster when settings name one."""
    if settings.dask_address:
        return extract_mentions_in_batches(
            run.staging, run.run_id, n_batches=settings.dask_batches, model=settings.model,
            labels=settings.labels, batch_size=settings.batch_size, patterns=settings.patterns)
    return extract_mentions(run.staging, run.run_id, model=settings.model,
                            labels=settings.labels, batch_size=settings.batch_size,
                            n_process=settings.n_process, patterns=settings.patterns)


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
    run = Run(run_id=flow_run.get_id() or uuid.uuid4().hex, inputs=tuple(map(str, paths)),
              warehouse=Warehouse(Path(settings.warehouse)), model=settings.model)
    with writer_lock(run.warehouse):
        upgrade_warehouse(run.warehouse)
        read = read_inputs(list(run.inputs), settings)
        cleaned = clean_articles(run.staging, run.run_id, read["records"], read["rejects"],
                                 max_chars=settings.max_chars,
                                 model_language=model_language(settings.model))
        selected = select_new_articles(run)
        grouped = group_stories(run.warehouse, run.staging, threshold=settings.story_threshold)
        found = find_entities(run, settings)
        propagated = propagate_mentions(run.warehouse, run.staging, model=settings.model)
        resolved = resolve_entities(run.warehouse, run.staging, alias_file=settings.aliases)
        aggregated = aggregate_entities(run.warehouse, run.staging, model=settings.model)
        stages = [{"seconds_read": read["seconds_read"]}, cleaned, selected, grouped, found,
                  propagated, resolved, aggregated]
        return commit(run, stages, model_version=found["model_version"])


@flow(name="newsner-reprocess", log_prints=True)
def newsner_reprocess(settings: Settings | None = None) -> dict:
    """Run NER again over the stored articles with settings.model; aggregates switch to it."""
    settings = settings or Settings()
    run = Run(run_id=flow_run.get_id() or uuid.uuid4().hex, inputs=("reprocess",),
              warehouse=Warehouse(Path(settings.warehouse)), model=settings.model)
    with writer_lock(run.warehouse):
        upgrade_warehouse(run.warehouse)
        selected = select_articles_to_reprocess(run)
        found = find_entities(run, settings)
        propagated = propagate_mentions(run.warehouse, run.staging, model=settings.model)
        resolved = resolve_entities(run.warehouse, run.staging, alias_file=settings.aliases)
        aggregated = aggregate_entities(run.warehouse, run.staging, model=settings.model)
        return commit(run, [selected, found, propagated, resolved, aggregated],
                      model_version=found["model_version"])
