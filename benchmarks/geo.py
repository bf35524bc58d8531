"""Place resolution on TR-News (../shared/data/geo-trnews), or DATA=FILE of the same format.

- Gold spans: each gold toponym goes to newsner's resolver as the article's place mentions; scored
  by exact GeoNames id, country (ISO2) and distance (within 161 km) over the toponyms with a gold
  id, beside "the most populous place of that name" over the same gazetteer, same run. Articles
  are also scored in two halves (even and odd positions in the file): rules were developed on the
  even half, so the odd half shows whether they carry over.
- End to end: the articles through newsner's own NER (as a run cleans and labels them, mentions of
  GPE, LOC, FAC and NORP), resolved; a predicted place is right when its span overlaps a gold
  toponym's and the ids agree. Precision over resolved predictions, recall over gold toponyms
  with an id.
- Cost: on the BBC corpus, place resolution's time beside NER's (clean, parse, propagate) on the
  same articles in the same process.

Usage: python -m benchmarks.geo [--data FILE] [--out FILE] [--bbc N]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import DATA, emit, read_jsonl, require
from tasks.gazetteer import place_form, place_index
from tasks.geocode import article_rows, candidates, locate

TRNEWS = DATA / "geo-trnews" / "articles.jsonl"
NEAR_KM = 161


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def gold_span_mentions(doc: dict) -> list[dict]:
    return [{"key": place_form(t["text"]) or t["text"], "text": t["text"], "label": None,
             "start_char": t["start"], "end_char": t["end"]} for t in doc["toponyms"]]


def most_populous(index, text: str):
    found = candidates(index, [text], None)
    if not found:
        return None
    return max((p for p, _ in found.values()), key=lambda p: (p.population, -p.geonameid))


class Tally:
    def __init__(self):
        self.n = self.exact = self.near = self.n_country = self.country = 0

    def add(self, gold: dict, place, country: str | None) -> None:
        self.n += 1
        if place is not None:
            self.exact += place.geonameid == gold["geonameid"]
            self.near += km((place.lat, place.lon), (gold["lat"], gold["lon"])) <= NEAR_KM
        if gold["country"]:
            self.n_country += 1
            self.country += country == gold["country"]

    def row(self) -> dict:
        return {"n": self.n, "exact": round(self.exact / max(self.n, 1), 4),
                "country": round(self.country / max(self.n_country, 1), 4),
                "within_161km": round(self.near / max(self.n, 1), 4)}


def gold_spans(docs: list[dict]) -> dict:
    index = place_index()
    tallies = {(system, half): Tally() for system in ("newsner", "most populous")
               for half in ("all", "even", "odd")}
    errors: Counter = Counter()
    seconds = 0.0
    for position, doc in enumerate(docs):
        half = "even" if position % 2 == 0 else "odd"
        start = time.perf_counter()
        chosen = locate(index, doc["text"], gold_span_mentions(doc))
        seconds += time.perf_counter() - start
        for t in doc["toponyms"]:
            if t["geonameid"] is None:
                continue
            located = chosen[place_form(t["text"]) or t["text"]]
            ours = located.place
            theirs = most_populous(index, t["text"])
            for h in ("all", half):
                tallies[("newsner", h)].add(t, ours, located.country)
                tallies[("most populous", h)].add(t, theirs, theirs.country_code if theirs else None)
            if ours is None or ours.geonameid != t["geonameid"]:
                errors[(t["text"], t["name"], t["fcode"], ours.name if ours else None,
                        ours.feature_code if ours else None,
                        ours.country_code if ours else None)] += 1
    return {"rows": {f"{s} {h}": t.row() for (s, h), t in tallies.items()},
            "seconds": round(seconds, 3), "errors": errors}


def end_to_end(docs: list[dict], model: str) -> dict:
    """Return precision and recall of the places newsner finds with its own NER spans, and the
    time NER and resolution took."""
    from benchmarks.ner_quality import raw_offsets, run_pipeline
    from tasks.settings import Settings

    prepared = [{"doc_id": d["doc_id"], "text": d["text"], "entities": []} for d in docs]
    start = time.perf_counter()
    articles, mentions, maps = run_pipeline(prepared, Settings(model=model))
    ner_seconds = time.perf_counter() - start
    for m in mentions:
        m.setdefault("model", model)
    start = time.perf_counter()
    rows = article_rows(place_index(), articles, mentions)["mention_places"]
    seconds = time.perf_counter() - start
    placed = {(r["article_id"], r["key"]): r["geonameid"] for r in rows if r["geonameid"]}
    gold = {d["doc_id"]: d["toponyms"] for d in docs}
    tp = fp = 0
    found_gold = set()
    for m in mentions:
        geonameid = placed.get((m["article_id"], m["key"]))
        where = raw_offsets(m, maps)
        if geonameid is None or where is None:
            continue
        hit = [i for i, t in enumerate(gold[m["article_id"]])
               if t["geonameid"] == geonameid and t["start"] < where[1] and where[0] < t["end"]]
        if hit:
            tp += 1
            found_gold.add((m["article_id"], hit[0]))
        else:
            fp += 1
    n_gold = sum(1 for d in docs for t in d["toponyms"] if t["geonameid"] is not None)
    precision = tp / max(tp + fp, 1)
    recall = len(found_gold) / max(n_gold, 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
            "ner_seconds": round(ner_seconds, 2), "resolve_seconds": round(seconds, 3),
            "resolve_share_of_ner": round(seconds / ner_seconds, 4)}


def bbc_cost(model: str, limit: int | None) -> dict:
    """Return NER's time and place resolution's on the BBC corpus, run as a run runs them."""
    from benchmarks.common import bbc_ner

    found = bbc_ner(model, limit)
    start = time.perf_counter()
    rows = article_rows(place_index(), found["articles"], found["mentions"])
    seconds = time.perf_counter() - start
    return {"articles": len(found["articles"]), "ner_seconds": found["ner_seconds"],
            "place_seconds": round(seconds, 3), "share": round(seconds / found["ner_seconds"], 4),
            "place_names": len(rows["mention_places"]),
            "placed": sum(r["geonameid"] is not None for r in rows["mention_places"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TRNEWS)
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--errors", type=int, default=0, help="print the N commonest errors")
    parser.add_argument("--no-ner", action="store_true", help="gold spans only")
    parser.add_argument("--bbc", type=int, default=None, metavar="N",
                        help="measure the cost on the first N BBC articles (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    place_index()
    load = time.perf_counter() - start
    docs = read_jsonl(require(args.data))
    result = gold_spans(docs)
    print(f"{args.data}: {len(docs)} articles; place index loaded in {load:.2f} s")
    print(f"\nwith gold spans ({result['seconds']:.2f} s to resolve):")
    print(f"{'system':<14} {'half':<5} {'n':>5} {'exact':>7} {'country':>8} {'<=161km':>8}")
    for name, row in result["rows"].items():
        system, half = name.rsplit(" ", 1)
        print(f"{system:<14} {half:<5} {row['n']:>5} {row['exact']:>7.3f} {row['country']:>8.3f} "
              f"{row['within_161km']:>8.3f}")
    gain = result["rows"]["newsner all"]["exact"] - result["rows"]["most populous all"]["exact"]
    print(f"exact-place gain over the most populous match: {gain:+.3f}")
    for error, n in result["errors"].most_common(args.errors):
        print(f"  {n:>3} {error}")
    summary = {"data": str(args.data), "index_load_seconds": round(load, 2),
               "gold_spans": result["rows"], "gain_exact": round(gain, 4)}
    if not args.no_ner:
        e2e = end_to_end(docs, args.model)
        print(f"\nend to end ({args.model} spans): precision {e2e['precision']:.3f}, recall "
              f"{e2e['recall']:.3f}, F1 {e2e['f1']:.3f}; NER {e2e['ner_seconds']:.1f} s, "
              f"resolution {e2e['resolve_seconds']:.2f} s")
        summary["end_to_end"] = e2e
        if (DATA / "bbc-news" / "articles.jsonl").exists():
            cost = bbc_cost(args.model, args.bbc)
            print(f"\ncost on BBC News ({cost['articles']:,} articles, {cost['place_names']:,} place "
                  f"names, {cost['placed']:,} placed): NER {cost['ner_seconds']:.1f} s, place "
                  f"resolution {cost['place_seconds']:.2f} s = {cost['share']:.1%} of NER (plus "
                  f"{load:.2f} s to load the index, once per process)")
            summary["bbc_cost"] = cost
    emit(summary, args.out)


if __name__ == "__main__":
    main()
