"""Places: every place a run's articles name, resolved to GeoNames (tasks/geocode.py), with each
article's focus country and place. Runs over the run's final mentions part by part, and once over
the stored articles of a warehouse that had none yet (after migration 004)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.geocode import CANDIDATE_LABELS, EVIDENCE_RULES, article_rows
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, pending, pending_inputs, place_votes, to_arrow

MENTION_COLUMNS = ["article_id", "model", "key", "text", "label", "start_char", "end_char"]
OUTPUTS = ("mention_places", "article_focus", "places")
PENDING = "places_pending"  # meta key: stored articles still to place
BACKFILL_PART = 1_000_000   # staged parts of the backfill are numbered from here


class Votes:
    """What the corpus chose for each name with evidence: stored choices, read for the names a
    part brings, plus the run's own as it goes."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.run: dict[str, Counter] = defaultdict(Counter)

    def for_keys(self, keys: set[str]) -> dict[str, dict[int, int]]:
        votes = {k: Counter(self.run.get(k, {})) for k in keys}
        for key, geonameid, n in place_votes(self.warehouse, sorted(keys), EVIDENCE_RULES):
            votes[key][geonameid] += n
        return votes

    def add(self, rows: list[dict]) -> None:
        for r in rows:
            if r["rule"] in EVIDENCE_RULES:
                self.run[r["key"]][r["geonameid"]] += 1


def _stage(staging: Staging, part: int, articles: list[dict], mentions: list[dict],
           counts: Counter, votes: Votes) -> None:
    from tasks.gazetteer import place_index  # the index is read once per process, when needed

    index = place_index()
    if not index.has_regions and not counts["warned"]:
        counts["warned"] = 1
        stage_logger().warning("places: regions outside the US are unknown to this install; "
                               "`make` builds the full place index (see the README)")
    rows = article_rows(index, articles, mentions,
                        votes.for_keys({m["key"] for m in mentions}))
    votes.add(rows["mention_places"])
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
    for path in staging.parts("mentions"):
        part = int(path.stem.split("-")[1])
        mentions = [m for m in staging.read_part("mentions", part).select(MENTION_COLUMNS).to_pylist()
                    if m["label"] in CANDIDATE_LABELS]
        if not mentions:
            continue
        with_places = {m["article_id"] for m in mentions}
        articles = [a for a in staging.read_part("ner_input", part).select(["article_id", "text"])
                    .to_pylist() if a["article_id"] in with_places]
        _stage(staging, part, articles, mentions, counts, votes)
        fault_point("places:part")
    if pending(warehouse, PENDING):
        after, part = "", BACKFILL_PART
        while after is not None:
            articles, mentions, _ = pending_inputs(warehouse, done="mention_places",
                                                   labels=CANDIDATE_LABELS, after=after,
                                                   limit=chunk_size)
            after = articles[-1]["article_id"] if articles else None
            if articles:
                _stage(staging, part, articles, mentions, counts, votes)
                counts["n_backfilled"] += len(articles)
                part += 1
        staging.write("meta_done", pa.table({"key": [PENDING]}))
    counts.pop("warned", None)
    stage_logger().info("places: %s", dict(counts))
    return dict(counts)
