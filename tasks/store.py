"""Storing: pick the articles the warehouse lacks, then commit the whole run at once."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.timing import stage_logger, timed
from tasks.warehouse import (
    Staging,
    Warehouse,
    articles_to_reprocess,
    commit_run,
    export_parquet,
    known_article_ids,
    load_sql,
    query,
)


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (the warehouse stores UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Run:
    """What every stage of one run needs to know about it."""

    run_id: str
    inputs: tuple[str, ...]
    warehouse: Warehouse
    model: str
    started_at: datetime = field(default_factory=utcnow)

    @property
    def staging(self) -> Staging:
        return self.warehouse.staging(self.run_id)


@task(name="select-new-articles", cache_policy=NO_CACHE)
@timed("select")
def select_new_articles(run: Run) -> dict:
    """Stage the cleaned articles the warehouse does not hold yet; only these go to NER."""
    cleaned = run.staging.read("cleaned", table="articles")
    known = known_article_ids(run.warehouse, cleaned["article_id"].to_pylist())
    is_known = pc.is_in(cleaned["article_id"], value_set=pa.array(sorted(known), pa.string()))
    new = cleaned.filter(pc.invert(is_known))
    run.staging.write("articles", new)
    counts = {"n_new_articles": new.num_rows, "n_known_articles": len(known)}
    stage_logger().info("new articles: %s", counts)
    return counts


@task(name="select-articles-to-reprocess", cache_policy=NO_CACHE)
@timed("select")
def select_articles_to_reprocess(run: Run) -> dict:
    """Stage the stored articles the run's model has not processed yet; they go to NER again."""
    articles = articles_to_reprocess(run.warehouse, model=run.model)
    run.staging.write("articles", articles)
    counts = {"n_inputs": articles.num_rows, "n_duplicates": 0, "n_new_articles": 0,
              "n_reprocessed": articles.num_rows}
    stage_logger().info("reprocess with %s: %s", run.model, counts)
    return counts


def stage_seconds(stages: list[dict]) -> dict[str, float]:
    """Return stage name -> seconds from the stages' counts (their `seconds_<stage>` keys)."""
    return {k.removeprefix("seconds_"): v for counts in stages for k, v in counts.items()
            if k.startswith("seconds_")}


@task(name="commit-run", cache_policy=NO_CACHE)
def commit(run: Run, stages: list[dict], *, model_version: str, top: int = 10) -> dict:
    """Commit the staged run into DuckDB in one transaction, refresh Parquet; return a summary."""
    start = time.perf_counter()
    counts = {k: v for stage in stages for k, v in stage.items() if not k.startswith("seconds_")}
    rejects = run.staging.read("rejects")
    by_reason = Counter(rejects["reason"].to_pylist())
    seconds = stage_seconds(stages)
    row = {
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": utcnow(),
        "inputs": list(run.inputs),
        "model": run.model,
        "model_version": model_version,
        "n_inputs": counts["n_inputs"],
        "n_duplicates": counts["n_duplicates"],
        "n_new_articles": counts["n_new_articles"],
        "n_other_language": counts["n_other_language"],
        "n_mentions": counts["n_mentions"],
        "n_rejects": rejects.num_rows,
        "stage_seconds": json.dumps(seconds),
    }
    changed = commit_run(run.warehouse, run.staging, row)
    if changed or not run.warehouse.parquet_dir.exists():
        export_parquet(run.warehouse)
    columns, top_rows = query(run.warehouse, load_sql("top"), {"label": None, "limit": top})
    seconds["commit"] = round(time.perf_counter() - start, 3)
    summary = {**row, "stage_seconds": seconds, "n_words": counts.get("n_words", 0),
               "changed": changed, "rejects_by_reason": dict(by_reason.most_common()),
               "top_entities": [dict(zip(columns, r, strict=True)) for r in top_rows]}
    stage_logger().info("committed run %s: %d new articles, %d mentions, %d rejects",
                          run.run_id, row["n_new_articles"], row["n_mentions"], row["n_rejects"])
    return summary
