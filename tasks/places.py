"""Places: every place a run's articles name, resolved to GeoNames (tasks/geocode.py), with each
article's focus country and place. Runs over the run's final mentions part by part, and once over
the stored articles of a warehouse that had none yet (after migration 004)."""

from __future__ import annotations

from collections import Counter, defaultdict

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.geocode import CANDIDATE_LABELS, EVIDENCE_RULES, article_rows
from tasks.parts import run_parts, stored_parts
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, place_votes, to_arrow

OUTPUTS = ("mention_places", "article_focus", "places")
PENDING = "places_pending"  # meta key: stored articles still to place


class Votes:
    """What the stored corpus chose for each name with evidence, read for the names a part
    brings. Only choices of earlier runs count: within a run every part sees the same, so a run's
    places do not depend on how it is chunked or on how many NER workers it has."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse

    def for_keys(self, keys: set[str]) -> dict[str, dict[int, int]]:
        votes: dict[str, Counter] = defaultdict(Counter)
        for key, geonameid, n in place_votes(self.warehouse, sorted(keys), EVIDENCE_RULES):
            votes[key][geonameid] += n
        return votes


def _stage(staging: Staging, part: int, articles: list[dict], mentions: list[dict],
           counts: Counter, votes: Votes) -> None:
    from tasks.gazetteer import place_index  # the index is read once per process, when needed

    index = place_index()
    if not index.has_regions and not counts["warned"]:
        counts["warned"] = 1
        stage_logger().warning("places: regions outside the US are unknown to this install; "
                               "`make` builds the full place index (see the README)")
    rows = article_rows(index, articles, mentions, votes.for_keys({m["key"] for m in mentions}))
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
    votes = Votes(warehouse)
    for part, articles, mentions, _ in run_parts(staging, CANDIDATE_LABELS):
        _stage(staging, part, articles, mentions, counts, votes)
        fault_point("places:part")
    for part, articles, mentions, _ in stored_parts(
            warehouse, staging, flag=PENDING, done="mention_places", labels=CANDIDATE_LABELS,
            chunk_size=chunk_size, flag_part=0):
        _stage(staging, part, articles, mentions, counts, votes)
        counts["n_backfilled"] += len(articles)
    counts.pop("warned", None)
    stage_logger().info("places: %s", dict(counts))
    return dict(counts)
