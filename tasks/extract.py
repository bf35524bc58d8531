"""NER, a run's costliest stage: each chunk of new articles goes through the spaCy pipeline and
comes back as rows: mentions, sentences, acronym definitions and the counts propagation reads.

Locally the chunks go to a pool of worker processes (tasks/workers.py) that load the pipeline
once and send back only rows, so the run's own process reads and cleans the next chunk meanwhile.
On a Dask cluster each chunk is a task whose input is the articles and whose output is the rows;
small runs stay in-process.
"""

from __future__ import annotations

import time

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.ner import load_nlp
from tasks.timing import stage_logger
from tasks.warehouse import to_arrow
from tasks.workers import OUTPUTS, NerConfig, extract_rows, ner_pool

NER_COLUMNS = ["article_id", "text", "language", "language_evidence"]
# NER hands propagation each article's bare names and the forms whose corpus counts it reads:
# found once, on the worker, staged as ner_names (a run's own hand-off between stages, never a
# warehouse table).
NAMES = pa.schema([("article_id", pa.string()), ("starts", pa.list_(pa.int32())),
                   ("ends", pa.list_(pa.int32())), ("forms", pa.list_(pa.string()))])
# A chunk's NER runs in a worker thread (it is submitted), where Prefect's task timeout cannot
# interrupt it: the task bounds its own wait on the worker processes instead.
CHUNK_TIMEOUT = 3_600


def with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    """Return `table` with every row's run_id set to `run_id` (as it is without that column)."""
    index = table.schema.get_field_index("run_id")
    if index < 0:
        return table
    field = table.schema.field(index)
    return table.set_column(index, field, pa.array([run_id] * table.num_rows, field.type))


def summed_forms(name_forms: pa.Table) -> pa.Table:
    """Return name_forms rows with one row per (model, form, label): each batch of a chunk
    counts its own articles, and the chunk's count is their sum."""
    keys = [c for c in name_forms.column_names if c != "n_articles"]
    summed = name_forms.group_by(keys, use_threads=False).aggregate([("n_articles", "sum")])
    names = ["n_articles" if c == "n_articles_sum" else c for c in summed.column_names]
    return summed.rename_columns(names).select(name_forms.column_names).cast(name_forms.schema)


@task(name="extract-mentions", cache_policy=NO_CACHE)
def extract_mentions(articles: pa.Table, run_id: str, *, config: NerConfig,
                     processes: int) -> dict:
    """Return the NER rows of one chunk of new articles as tables (task input and output only:
    a Dask worker needs no shared folder)."""
    start = time.perf_counter()
    rows = articles.select(NER_COLUMNS).to_pylist()
    found = (ner_pool(config, processes).run(rows, timeout=CHUNK_TIMEOUT) if processes
             else extract_rows(load_nlp(config.model, config.patterns), rows, config))
    tables = {name: with_run_id(to_arrow(name, found[name]), run_id)
              for name in OUTPUTS if name != "names"}
    tables["name_forms"] = summed_forms(tables["name_forms"])
    tables["names"] = pa.Table.from_pylist(found["names"], schema=NAMES)
    seconds = time.perf_counter() - start
    stage_logger().info("NER: %d articles, %d words, %d mentions, %.0f words/s, %s", len(rows),
                        found["n_words"], len(found["mentions"]), found["n_words"] / max(seconds, 1e-9),
                        f"on {len(found['workers'])} worker processes" if processes else
                        "in the run's process")
    return {"tables": tables, "model_version": found["model_version"],
            "n_words": found["n_words"], "n_mentions": len(found["mentions"]),
            "n_other_language": found["n_other_language"], "seconds_ner": seconds}
