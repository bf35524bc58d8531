"""Who said what, and in what tone: the quotes of a run's articles with their speakers
(tasks/quotes.py) and the tone toward every mention (tasks/tone.py). Runs over the run's final
mentions part by part, and once over the stored articles of a warehouse that had none yet (after
migration 005)."""

from __future__ import annotations

from collections import Counter

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.parts import computed, run_parts, stored_parts
from tasks.speech_rows import article_rows
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, to_arrow

OUTPUTS = ("quotes", "mention_tones")
PENDING = "speech_pending"  # meta key: stored articles still without quotes and tone


def _stage(staging: Staging, part: int, rows: dict[str, list[dict]], counts: Counter) -> None:
    for name in OUTPUTS:
        staging.write(name, to_arrow(name, rows[name]), part)
    counts["n_quotes"] += len(rows["quotes"])
    counts["n_direct_quotes"] += sum(q["direct"] for q in rows["quotes"])
    counts["n_attributed"] += sum(q["speaker_key"] is not None for q in rows["quotes"])
    counts["n_toned"] += len(rows["mention_tones"])


@task(name="quotes-and-tone", cache_policy=NO_CACHE, timeout_seconds=3_600)
@timed("quotes")
def find_quotes_and_tone(warehouse: Warehouse, staging: Staging, *, chunk_size: int = 1_000) -> dict:
    """Stage the quotes and mention tones of the run's articles (and of stored ones without)."""
    counts: Counter = Counter()
    for (part, *_), rows in computed(article_rows, run_parts(staging)):
        _stage(staging, part, rows, counts)
        fault_point("quotes:part")
    for (part, articles, *_), rows in computed(article_rows, stored_parts(
            warehouse, staging, flag=PENDING, done="mention_tones", labels=None,
            chunk_size=chunk_size, flag_part=1)):
        _stage(staging, part, rows, counts)
        counts["n_backfilled_quotes"] += len(articles)
    stage_logger().info("quotes and tone: %s", dict(counts))
    return dict(counts)
