"""Storing: upgrade the warehouse, pick stored articles to reprocess, commit a whole run at once,
and publish its summary."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.ner import installed_version
from tasks.timing import stage_logger
from tasks.warehouse import (
    Staging,
    Warehouse,
    articles_to_reprocess,
    commit_run,
    export_parquet,
    lake_needs_export,
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


@task(name="select-articles-to-reprocess", cache_policy=NO_CACHE, timeout_seconds=600)
def select_for_reprocess(run: Run, part: int, *, after: str, limit: int) -> dict:
    """Stage, as NER input part `part`, the next `limit` stored articles (ids above `after`) the
    run's model has not processed yet; return how many and the last id."""
    articles = articles_to_reprocess(run.warehouse, model=run.model, after=after, limit=limit)
    run.staging.write("ner_input", articles, part)
    last = articles["article_id"][-1].as_py() if articles.num_rows else None
    return {"n_inputs": articles.num_rows, "n_reprocessed": articles.num_rows, "last": last}


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


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()|<>~])")


def cell(value) -> str:
    """Return `value` as the text of a markdown table cell: markdown and HTML shown as written,
    never interpreted (names come from the news, and the news can hold anything)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value).split()))


def summary_markdown(summary: dict, movers: list[tuple], quoted: list[tuple] = ()) -> str:
    """Return the run's markdown report: counts, top entities, top movers, most quoted people."""
    lines = [f"# newsner run `{summary['run_id']}`", "",
             f"{summary['n_inputs']} articles in, {summary['n_new_articles']} new, "
             f"{summary['n_mentions']} mentions, {summary['n_rejects']} rejects "
             f"({summary['model']} {summary['model_version']}).", "",
             "## Top entities", "", "| entity | label | mentions | articles |", "|---|---|---|---|"]
    lines += [f"| {cell(e['name'])} | {e['label']} | {e['n_mentions']} | {e['n_articles']} |"
              for e in summary["top_entities"]]
    lines += ["", "## Top movers (latest day against the 28-day baseline)", ""]
    if movers:
        lines += ["| entity | label | mentions | baseline | z |", "|---|---|---|---|---|"]
        lines += [f"| {cell(n)} | {lab} | {m} | {b} | {z} |" for n, lab, m, b, z in movers]
    else:
        lines.append("No entity has enough mentions on its latest day yet.")
    if quoted:
        lines += ["", "## Most quoted people (30 days to the latest article)", "",
                  "| person | quotes | a quote |", "|---|---|---|"]
        lines += [f"| {cell(name)} | {n} | {cell(quote[:240])} |" for name, n, quote in quoted]
    return "\n".join(lines) + "\n"


def publish_artifacts(summary: dict, mentions_by_label: dict[str, int], warehouse: Warehouse,
                      ) -> None:
    """Publish the run summary to the Prefect UI under stable keys."""
    entities_by_label = dict(query(warehouse, "SELECT label, count(*) FROM entities GROUP BY ALL")[1])
    movers = query(warehouse, load_sql("report_run_movers"), {"limit": 10})[1]
    create_table_artifact(summary_table(summary, mentions_by_label, entities_by_label),
                          key="newsner-run-summary", description="newsner run: counts and timings")
    quoted = query(warehouse, load_sql("report_quoted"), {"limit": 5})[1]
    create_markdown_artifact(summary_markdown(summary, movers, quoted), key="newsner-run-report",
                             description="newsner run: top entities and top movers")


def stage_seconds(stages: list[dict]) -> dict[str, float]:
    """Return stage name -> seconds from the stages' counts (their `seconds_<stage>` keys)."""
    return {k.removeprefix("seconds_"): round(v, 3) for counts in stages
            for k, v in counts.items() if k.startswith("seconds_")}


@task(name="commit-run", cache_policy=NO_CACHE, timeout_seconds=3_600)
def commit(run: Run, stages: list[dict], *, top: int = 10) -> dict:
    """Commit the staged run into DuckDB in one transaction, refresh Parquet; return a summary."""
    start = time.perf_counter()
    counts = {k: v for stage in stages for k, v in stage.items() if not k.startswith("seconds_")}
    model_version = counts.get("model_version") or installed_version(run.model)
    rejects = {r["reject_id"]: r["reason"] for r in run.staging.read(
        "rejects", columns=["reject_id", "reason"]).to_pylist()}
    by_reason = Counter(rejects.values())
    mentions_by_label = Counter(run.staging.read("mentions", columns=["label"])["label"].to_pylist())
    seconds = stage_seconds(stages)
    row = {
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": utcnow(),
        "inputs": list(run.inputs),
        "model": run.model,
        "model_version": model_version,
        "n_inputs": counts.get("n_inputs", 0),
        "n_duplicates": counts.get("n_duplicates", 0),
        "n_new_articles": counts.get("n_new_articles", 0),
        "n_other_language": counts.get("n_other_language", 0),
        "n_mentions": counts.get("n_mentions", 0),
        "n_rejects": len(rejects),
        "stage_seconds": json.dumps(seconds),
    }
    committed = commit_run(run.warehouse, run.staging, row)
    changed = committed.changed
    seconds["write_window"] = committed.write_seconds
    if changed or lake_needs_export(run.warehouse):
        export_parquet(run.warehouse, committed.dirty)
    columns, top_rows = query(run.warehouse, load_sql("top"), {"label": None, "limit": top})
    seconds["commit"] = round(time.perf_counter() - start, 3)
    summary = {**counts, **row, "stage_seconds": seconds, "n_words": counts.get("n_words", 0),
               "changed": changed, "rejects_by_reason": dict(by_reason.most_common()),
               "top_entities": [dict(zip(columns, r, strict=True)) for r in top_rows]}
    publish_artifacts(summary, dict(mentions_by_label), run.warehouse)
    fault_point("summary:done")
    stage_logger().info("committed run %s: %d new articles, %d mentions, %d rejects",
                        run.run_id, row["n_new_articles"], row["n_mentions"], row["n_rejects"])
    return summary
