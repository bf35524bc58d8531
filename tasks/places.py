"""Places: every place a run's articles name, resolved to GeoNames (tasks/geocode.py), with each
article's focus country and place. Runs over the run's final mentions part by part (on NER's idle
worker processes when the run has them), and once over the stored articles of a warehouse that had
none yet (after migration 004)."""

from __future__ import annotations

from collections import Counter

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.gazetteer import place_index
from tasks.geocode import CANDIDATE_LABELS, place_rows
from tasks.parts import computed, run_parts, stored_parts
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, to_arrow

OUTPUTS = ("mention_places", "article_focus", "places")
PENDING = "places_pending"  # meta key: stored articles still to place


def _stage(staging: Staging, part: int, rows: dict[str, list[dict]], counts: Counter) -> None:
    if not place_index().has_regions and not counts["warned"]:
        counts["warned"] = 1
        stage_logger().warning("places: regions outside the US are unknown to this install; "
                               "`make` builds the full place index (see the README)")
    for name in OUTPUTS:
        staging.write(name, to_arrow(name, rows[name]), part)
    counts["n_place_names"] += len(rows["mention_places"])
    counts["n_placed"] += sum(r["geonameid"] is not None for r in rows["mention_places"])
    counts["n_focused"] += len(rows["article_focus"])


@task(name="locate-places", cache_policy=NO_CACHE, timeout_seconds=3_600)
@timed("places")
def locate_places(warehouse: Warehouse, staging: Staging, *, chunk_size: int = 1_000) -> dict:
    """Stage the places of the run's articles (and of stored ones still without)."""
    counts: Counter = Counter()
    place_index()  # here first: built once, before workers open it
    for (part, *_), rows in computed(place_rows, run_parts(staging, CANDIDATE_LABELS)):
        _stage(staging, part, rows, counts)
        fault_point("places:part")
    for (part, articles, *_), rows in computed(place_rows, stored_parts(
            warehouse, staging, flag=PENDING, done="mention_places", labels=CANDIDATE_LABELS,
            chunk_size=chunk_size, flag_part=0)):
        _stage(staging, part, rows, counts)
        counts["n_backfilled"] += len(articles)
    counts.pop("warned", None)
    stage_logger().info("places: %s", dict(counts))
    return dict(counts)
