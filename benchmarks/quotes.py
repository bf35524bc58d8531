"""Quotes and speakers on PolNeAR dev (../shared/data/quotes-polnear-dev), or DATA=FILE of the
same format, scored as its README says.

The articles go through a run's cleaning, NER and propagation; quotes are found on the cleaned
text with those mentions and mapped back to the original offsets. A predicted quote matches a gold
content when their shared word tokens are at least 80 % (and, looser, 30 %) of the longer span's.

- direct quotes: precision (share of predicted direct quotes matching any gold content), recall
  (share of gold direct contents matched), F1; speaker accuracy over the matched quotes with a gold
  source: the predicted speaker span overlaps the gold source (the span variant: a pronoun counts
  as the pronoun, as the gold marks it).
- indirect quotes, the same against all gold contents (recall over the non-direct ones).
- articles in two halves (even and odd positions): rules were developed on the even half.

- cost: the quotes-and-tone stage's time on the BBC corpus beside NER's (clean, parse, propagate)
  in the same process.

Usage: python -m benchmarks.quotes [--data FILE] [--out FILE] [--bbc N]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from benchmarks.common import DATA, emit, read_jsonl, require
from tasks.quotes import find_quotes

POLNEAR = DATA / "quotes-polnear-dev" / "articles.jsonl"
TOKEN = re.compile(r"\w+")


def tokens(text: str, start: int, end: int) -> set[int]:
    """Return the start offsets of the word tokens inside text[start:end]."""
    return {m.start() for m in TOKEN.finditer(text, start, end) if m.end() <= end}


def overlap(text: str, a: tuple[int, int], b: tuple[int, int]) -> float:
    ta, tb = tokens(text, *a), tokens(text, *b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / max(len(ta), len(tb))


def predict(docs: list[dict], model: str) -> tuple[list[list[dict]], float, float]:
    """Return per document the predicted quotes in the original text's offsets, NER seconds and
    quote seconds."""
    from benchmarks.ner_quality import run_pipeline
    from tasks.settings import Settings

    prepared = [{"doc_id": d["doc_id"], "text": d["text"], "entities": []} for d in docs]
    start = time.perf_counter()
    articles, mentions, maps = run_pipeline(prepared, Settings(model=model))
    ner_seconds = time.perf_counter() - start
    by_article: dict[str, list[dict]] = {}
    for m in mentions:
        by_article.setdefault(m["article_id"], []).append(m)
    texts = {a["article_id"]: a["text"] for a in articles}
    out, seconds = [], 0.0
    for doc in docs:
        text = texts.get(doc["doc_id"])
        if text is None:
            out.append([])
            continue
        start = time.perf_counter()
        found = find_quotes(text, by_article.get(doc["doc_id"], []))
        seconds += time.perf_counter() - start
        mapping = maps[doc["doc_id"]]

        def back(i, mapping=mapping):
            while i is not None and i < len(mapping) and mapping[i] is None:
                i += 1
            return mapping[i] if i is not None and i < len(mapping) else None

        rows = []
        for q in found:
            s, e = back(q.start), back(q.end)
            if s is None or e is None:
                continue
            speaker = ((back(q.speaker_start), back(q.speaker_end))
                       if q.speaker_start is not None else None)
            rows.append({"start": s, "end": e, "direct": q.direct, "rule": q.rule,
                         "speaker": speaker, "speaker_key": q.speaker_key})
        out.append(rows)
    return out, ner_seconds, seconds


def score(docs: list[dict], predicted: list[list[dict]], *, direct: bool, threshold: float) -> dict:
    n_pred = n_pred_match = n_gold = n_gold_match = n_speaker = n_speaker_right = 0
    for doc, rows in zip(docs, predicted, strict=True):
        text = doc["text"]
        golds = doc["attributions"]
        wanted = [g for g in golds if g["direct"] == direct]
        rows = [r for r in rows if r["direct"] == direct]
        n_pred += len(rows)
        n_gold += len(wanted)
        for r in rows:
            best = max(golds, key=lambda g: overlap(text, (r["start"], r["end"]),
                                                    (g["content"]["start"], g["content"]["end"])),
                       default=None)
            if best is None or overlap(text, (r["start"], r["end"]), (best["content"]["start"],
                                                                      best["content"]["end"])) < threshold:
                continue
            n_pred_match += 1
            if best["source"]:
                n_speaker += 1
                src = best["source"]
                sp = r["speaker"]
                n_speaker_right += bool(sp and sp[0] is not None and sp[1] is not None and (
                    sp[0] < src["end"] and src["start"] < sp[1]
                    or text[sp[0]:sp[1]].casefold() == src["text"].casefold()))
        for g in wanted:
            n_gold_match += any(overlap(text, (r["start"], r["end"]),
                                        (g["content"]["start"], g["content"]["end"])) >= threshold
                                for r in rows)
    p, r = n_pred_match / max(n_pred, 1), n_gold_match / max(n_gold, 1)
    return {"predicted": n_pred, "gold": n_gold, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / max(p + r, 1e-9), 4),
            "speaker_accuracy": round(n_speaker_right / max(n_speaker, 1), 4),
            "n_speaker_scored": n_speaker}


def bbc_cost(model: str, limit: int | None) -> dict:
    """Return NER's time and the quotes-and-tone stage's on the BBC corpus (the stage's own
    function, over the articles, mentions and sentences NER left)."""
    from benchmarks.common import bbc_ner
    from tasks.speech_rows import article_rows

    found = bbc_ner(model, limit)
    start = time.perf_counter()
    rows = article_rows(found["articles"], found["mentions"], found["sentences"])
    seconds = time.perf_counter() - start
    return {"articles": len(found["articles"]), "ner_seconds": found["ner_seconds"],
            "seconds": round(seconds, 2), "share": round(seconds / found["ner_seconds"], 4),
            "quotes": len(rows["quotes"]), "mention_tones": len(rows["mention_tones"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=POLNEAR)
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--bbc", type=int, default=None, metavar="N",
                        help="measure the cost on the first N BBC articles (default: all)")
    args = parser.parse_args()
    docs = read_jsonl(require(args.data))
    predicted, ner_seconds, seconds = predict(docs, args.model)
    results = {}
    print(f"{args.data}: {len(docs)} articles; NER {ner_seconds:.1f} s, quotes {seconds:.2f} s")
    print(f"{'quotes':<9} {'half':<5} {'match':>5} {'pred':>5} {'gold':>5} {'P':>6} {'R':>6} "
          f"{'F1':>6} {'speaker':>8}")
    for kind, direct in (("direct", True), ("indirect", False)):
        for half in ("all", "even", "odd"):
            keep = [i for i in range(len(docs)) if half == "all" or i % 2 == (half == "odd")]
            for threshold in (0.8, 0.3):
                row = score([docs[i] for i in keep], [predicted[i] for i in keep], direct=direct,
                            threshold=threshold)
                results[f"{kind} {half} {threshold}"] = row
                print(f"{kind:<9} {half:<5} {threshold:>5} {row['predicted']:>5} {row['gold']:>5} "
                      f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f} "
                      f"{row['speaker_accuracy']:>8.3f}")
    summary = {"data": str(args.data), "ner_seconds": round(ner_seconds, 2),
               "quote_seconds": round(seconds, 3), "scores": results}
    if (DATA / "bbc-news" / "articles.jsonl").exists():
        cost = bbc_cost(args.model, args.bbc)
        print(f"\ncost on BBC News ({cost['articles']:,} articles, {cost['quotes']:,} quotes, "
              f"{cost['mention_tones']:,} mentions toned): NER {cost['ner_seconds']:.1f} s, quotes "
              f"and tone {cost['seconds']:.1f} s = {cost['share']:.1%} of NER")
        summary["bbc_cost"] = cost
    emit(summary, args.out)


if __name__ == "__main__":
    main()
