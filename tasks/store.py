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
from prefect.artifacts import create_markdown_artifact, create_table_artifact
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
    migrate,
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


@task(name="upgrade-warehouse", cache_policy=NO_CACHE, timeout_seconds=3_600)
def upgrade_warehouse(warehouse: Warehouse) -> dict:
    """Bring an older warehouse to this newsner's schema (a no-op for a new or current one)."""
    applied, backup = migrate(warehouse)
    if applied:
        stage_logger().info("warehouse upgraded to schema version %d (%s); old file kept as %s",
                            applied[-1].version, ", ".join(m.name for m in applied), backup)
    return {"n_migrations": len(applied)}


@task(name="select-new-articles", cache_policy=NO_CACHE, timeout_seconds=600)
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


@task(name="select-articles-to-reprocess", cache_policy=NO_CACHE, timeout_seconds=600)
@timed("select")
def select_articles_to_reprocess(run: Run) -> dict:
    """Stage the stored articles the run's model has not processed yet; they go to NER again."""
    articles = articles_to_reprocess(run.warehouse, model=run.model)
    run.staging.write("articles", articles)
    counts = {"n_inputs": articles.num_rows, "n_duplicates": 0, "n_new_articles": 0,
              "n_reprocessed": articles.num_rows}
    stage_logger().info("reprocess with %s: %s", run.model, counts)
    return counts


def summary_table(summary: dict, mentions_by_label: dict[str, int],
                  entities_by_label: dict[str, int]) -> list[dict]:
    """Return the run summary as (measure, value) rows for a Prefect table artifact."""
    words_per_second = summary["n_words"] / max(summary["stage_seconds"].get("ner", 0), 1e-9)
    rows = [("articles in", summary["n_inputs"]), ("new articles", summary["n_new_articles"]),
            ("duplicates", summary["n_duplicates"]),
            ("not in the model's language", summary["n_other_language"]),
            ("rejects", summary["n_rejects"]), ("mentions", summary["n_mentions"])]
    rows += [(f"rejects: {reason}", n) for reason, n in summary["rejects_by_reason"].items()]
    rows += [(f"mentions: {label}", n) for label, n in sorted(mentions_by_label.items())]
    rows += [(f"entities: {label}", n) for label, n in sorted(entities_by_label.items())]
    rows += [(f"seconds: {stage}", s) for stage, s in summary["stage_seconds"].items()]
    rows.append(("NER words/s", round(words_per_second) if summary["n_words"] else 0))
    return [{"measure": measure, "value": value} for measure, value in rows]


def summary_markdown(summary: dict, movers: list[tuple]) -> str:
    """Return the run's markdown report: counts, top entities and top movers."""
    lines = [f"# newsner run `{summary['run_id']}`", "",
             f"{summary['n_inputs']} articles in, {summary['n_new_articles']} new, "
             f"{summary['n_mentions']} mentions, {summary['n_rejects']} rejects "
             f"({summary['model']} {summary['model_version']}).", "",
             "## Top entities", "", "| entity | label | mentions | articles |", "|---|---|---|---|"]
    lines += [f"| {e['name']} | {e['label']} | {e['n_mentions']} | {e['n_articles']} |"
              for e in summary["top_entities"]]
    lines += ["", "## Top movers (latest day against the 28-day baseline)", ""]
    if movers:
        lines += ["| entity | label | mentions | baseline | z |", "|---|---|---|---|---|"]
        lines += [f"| {n} | {lab} | {m} | {b} | {z} |" for n, lab, m, b, z in movers]
    else:
        lines.append("No entity has enough mentions on its latest day yet.")
    return "\n".join(lines) + "\n"


def publish_artifacts(summary: dict, mentions_by_label: dict[str, int], warehouse: Warehouse,
                      ) -> None:
    """Publish the run summary to the Prefect UI under stable keys."""
    entities_by_label = dict(query(warehouse, "SELECT label, count(*) FROM entities GROUP BY ALL")[1])
    movers = query(warehouse, load_sql("report_run_movers"), {"limit": 10})[1]
    create_table_artifact(summary_table(summary, mentions_by_label, entities_by_label),
                          key="newsner-run-summary", description="newsner run: counts and timings")
    create_markdown_artifact(summary_markdown(summary, movers), key="newsner-run-report",
                             description="newsner run: top entities and top movers")


def stage_seconds(stages: list[dict]) -> dict[str, float]:
    """Return stage name -> seconds from the stages' counts (their `seconds_<stage>` keys)."""
    return {k.removeprefix("seconds_"): v for counts in stages for k, v in counts.items()
            if k.startswith("seconds_")}


@task(name="commit-run", cache_policy=NO_CACHE, timeout_seconds=3_600)
def commit(run: Run, stages: list[dict], *, model_version: str, top: int = 10) -> dict:
    """Commit the staged run into DuckDB in one transaction, refresh Parquet; return a summary."""
    start = time.perf_counter()
    counts = {k: v for stage in stages for k, v in stage.items() if not k.startswith("seconds_")}
    rejects = run.staging.read("rejects")
    by_reason = Counter(rejects["reason"].to_pylist())
    mentions_by_label = Counter(run.staging.read("mentions")["label"].to_pylist())
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
    publish_artifacts(summary, dict(mentions_by_label), run.warehouse)
    stage_logger().info("committed run %s: %d new articles, %d mentions, %d rejects",
                        run.run_id, row["n_new_articles"], row["n_mentions"], row["n_rejects"])
    return summary
