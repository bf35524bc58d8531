"""Ingestion: the run's inputs planned against the warehouse's manifest, then read, cleaned,
de-duplicated and grouped into stories one chunk at a time; each chunk's new articles are staged
for NER while the next chunk is read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.clean import clean_records, reject_rows
from tasks.faults import fault_point
from tasks.fetch import FetchPolicy
from tasks.readers import Options, release_caches
from tasks.settings import Settings
from tasks.sources import (
    Plan,
    Reading,
    discover,
    plan_paths,
    plan_sources,
    read_all,
    read_chunk,
)
from tasks.stories import story_rows
from tasks.timing import stage_logger
from tasks.warehouse import (
    Staging,
    Warehouse,
    known_article_ids,
    stored_sources,
    story_candidates,
    to_arrow,
)

NER_INPUT = ["article_id", "text", "language", "language_evidence"]
FIRST_CHUNK_SHARE = 4  # the first chunk is this much smaller than the others


def chunk_budget(part: int, settings: Settings) -> dict[str, int]:
    """Return how much chunk `part` reads, in records and in characters of text: the settings'
    chunk size, but the first chunk reads a quarter of it, so NER's workers, idle until it is
    staged, start sooner."""
    share = 1 if part else FIRST_CHUNK_SHARE
    return {"budget": max(1, settings.chunk_size // share),
            "chars": max(1, settings.chunk_chars // share)}


def reading_for(settings: Settings) -> Reading:
    """Return how the settings say to read: reader options, HTTP policy, feed pages."""
    return Reading(
        options=Options(max_bytes=settings.max_bytes, min_chars=settings.min_chars,
                        columns=tuple(sorted(settings.csv_columns.items()))),
        policy=FetchPolicy(timeout=settings.fetch_timeout, retries=settings.fetch_retries,
                           max_redirects=settings.fetch_max_redirects,
                           max_bytes=settings.max_bytes, concurrency=settings.fetch_concurrency,
                           allow_private_network=settings.allow_private_network),
        fetch_linked=settings.fetch_linked)


@task(name="plan-inputs", cache_policy=NO_CACHE, timeout_seconds=600)
def plan_inputs(warehouse: Warehouse, paths: Sequence[str], *, full: bool = False) -> Plan:
    """Plan what to read: every input, less the files unchanged since the warehouse read them."""
    start = time.perf_counter()
    plan = plan_paths(paths, partial(stored_sources, warehouse), full=full)
    stage_logger().info("plan: %d sources to read, %d unchanged since the last run (%.2f s)",
                        len(plan.sources), plan.n_unchanged, time.perf_counter() - start)
    fault_point("plan:done")
    return plan


@task(name="ingest-chunk", cache_policy=NO_CACHE, timeout_seconds=3_600)
def ingest_chunk(warehouse: Warehouse, staging: Staging, run_id: str, plan: Plan,
                 position: tuple[int, int], part: int, settings: Settings, *,
                 model_language: str) -> dict:
    """Read the next chunk of the plan; stage its new articles, stories, rejects and manifest
    rows as part `part`. Return the counts and the position the next chunk starts from."""
    times = {"seconds_read": time.perf_counter()}
    chunk = read_chunk(plan, position, reading_for(settings), **chunk_budget(part, settings))
    fault_point("chunk:read")
    times["seconds_clean"] = time.perf_counter()
    articles, rejects, duplicates = clean_records(chunk.records, max_chars=settings.max_chars,
                                                  model_language=model_language)
    fault_point("chunk:cleaned")
    stored, staged = known_article_ids(warehouse, [a["article_id"] for a in articles], staging)
    new = [a for a in articles if a["article_id"] not in stored | staged]
    times["seconds_stories"] = time.perf_counter()
    new, signatures, bands, joined = story_rows(
        new, lambda keys: story_candidates(warehouse, keys, staging),
        threshold=settings.story_threshold)
    times["seconds_stage"] = time.perf_counter()
    staging.write("articles", to_arrow("articles", [{**a, "run_id": run_id} for a in new]), part)
    staging.write("ner_input", to_arrow("articles", new).select(NER_INPUT), part)
    fault_point("chunk:half-staged")  # a part's tables are written one by one
    staging.write("story_signatures", to_arrow("story_signatures", signatures), part)
    staging.write("story_bands", to_arrow("story_bands", bands), part)
    staging.write("rejects", to_arrow("rejects", reject_rows(chunk.rejects + rejects, run_id)), part)
    staging.write("sources", to_arrow("sources", [{**row, "run_id": run_id}
                                                   for row in chunk.manifest.values()]), part)
    now = time.perf_counter()
    seconds = {name: round(end - begin, 3) for (name, begin), end in zip(
        times.items(), [*list(times.values())[1:], now], strict=True)}
    counts = {"n_inputs": len(chunk.records), "n_duplicates": duplicates + len(staged),
              "n_new_articles": len(new), "n_known_articles": len(stored),
              "n_joined_stories": joined, "n_rejects": len(chunk.rejects) + len(rejects),
              "n_skipped_records": chunk.n_skipped_records,
              "n_not_modified": chunk.n_not_modified}
    stage_logger().info("chunk %d: %s", part, counts)
    if chunk.next is None:
        release_caches()
    fault_point("chunk:staged")
    return {**counts, **seconds, "next": chunk.next}


def read_paths(paths: Sequence[str], settings: Settings) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) of `paths` read whole, as a first run reads them (for tests and
    benchmarks; a run reads chunk by chunk)."""
    files, urls = discover(paths)
    read = read_all(plan_sources(files, urls, {}), reading_for(settings))
    return read.records, read.rejects
