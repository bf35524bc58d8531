"""Propagation, the stage: names the model found in one article or across the corpus are marked
where it missed them (the rules are tasks/recall.py). Runs once NER is done, a part at a time, on
NER's idle worker processes when the run has them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pyarrow.compute as pc
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.extract import NAMES
from tasks.faults import fault_point
from tasks.ner import acronym_rows
from tasks.parts import computed
from tasks.recall import FormCounts, propagate
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, name_form_counts, to_arrow


def _staged_names(staging: Staging, part: int) -> tuple[dict[str, list[tuple[int, int]]], list[str]]:
    """Return the bare names NER staged for part `part` (article_id -> [(start, end)]) and the
    forms of the part whose corpus counts propagation reads."""
    table = staging.read_part("ner_names", part, schema=NAMES)
    forms = pc.unique(pc.list_flatten(table["forms"])).to_pylist()
    table = table.select(["article_id", "starts", "ends"]).to_pydict()
    return {article_id: list(zip(starts, ends, strict=True)) for article_id, starts, ends in
            zip(table["article_id"], table["starts"], table["ends"], strict=True)}, forms


def _parts(warehouse: Warehouse, staging: Staging, model: str) -> Iterator[tuple]:
    """Yield each NER part: (part, its processed articles, model mentions, sentences, the corpus
    counts of the forms it holds, stored and staged)."""
    with name_form_counts(warehouse, staging, model=model) as counts:
        for path in staging.parts("ner_mentions"):
            part = int(path.stem.split("-")[1])
            names, forms = _staged_names(staging, part)  # one row per article NER parsed
            articles = [{**a, "names": names[a["article_id"]]}  # found by NER, sent along
                        for a in staging.read_part("ner_input", part).select(
                            ["article_id", "text"]).to_pylist() if a["article_id"] in names]
            mentions = staging.read_part("ner_mentions", part, table="mentions")
            sentences = staging.read_part("sentences", part)  # tables go to the worker as they are
            yield part, articles, mentions, sentences, FormCounts().merge(counts(sorted(forms)))


@task(name="propagate-mentions", cache_policy=NO_CACHE, timeout_seconds=3_600)
@timed("propagate")
def propagate_mentions(warehouse: Warehouse, staging: Staging, *, model: str) -> dict:
    """Add the names the model missed in the run's articles, part by part, against the counts
    of the warehouse and of everything the run parsed; stage the final mentions and acronyms."""
    added: Counter = Counter()
    total = 0
    for (part, articles, *_), every in computed(propagate, _parts(warehouse, staging, model)):
        staging.write("mentions", to_arrow("mentions", every), part)
        changed = {m["article_id"] for m in every if m.get("rule", "model") != "model"}
        acronyms = staging.read_part("ner_acronyms", part, table="acronyms").to_pylist()
        acronyms = [a for a in acronyms if a["article_id"] not in changed] + acronym_rows(
            [a for a in articles if a["article_id"] in changed],
            [m for m in every if m["article_id"] in changed])
        staging.write("acronyms", to_arrow("acronyms", acronyms), part)
        fault_point("propagate:part")
        added.update(m["rule"] for m in every if m.get("rule", "model") != "model")
        total += len(every)
    fault_point("propagate:done")
    result = {"n_mentions": total, "n_added_article": added["article"],
              "n_added_corpus": added["corpus"]}
    stage_logger().info("propagated: %s", result)
    return result
