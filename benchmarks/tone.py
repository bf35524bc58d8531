"""Tone toward a mention on NewsMTSC dev (../shared/data/sentiment-newsmtsc-dev), or DATA=FILE of
the same format: newsner's per-mention tone beside whole-sentence VADER (its own lexicon, its own
cut-offs of +-0.05) in the same run, by accuracy and macro-F1 over negative, neutral and positive.

rw-dev (sentences sampled like the news) is the main number; mt-dev (sentences with two targets or
more) checks that the tone goes to the right mention. The speaker and addressee rules were developed
on mt-dev; the gain is also printed for its even and odd rows, so a rule that helps only one half
shows.

Usage: python -m benchmarks.tone [--data FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import DATA, emit, read_jsonl, require
from tasks.tone import mention_tone, polarity

NEWSMTSC = DATA / "sentiment-newsmtsc-dev"


def macro_f1(gold: list[int], predicted: list[int]) -> tuple[float, float]:
    """Return (accuracy, macro-F1 over the classes -1, 0, 1)."""
    scores = []
    for c in (-1, 0, 1):
        tp = sum(g == c == p for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == c != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == c != p for g, p in zip(gold, predicted, strict=True))
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        scores.append(2 * precision * recall / max(precision + recall, 1e-9))
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1)
    return round(accuracy, 4), round(sum(scores) / 3, 4)


def evaluate(rows: list[dict]) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()  # as shipped: no news words
    gold = [r["polarity"] for r in rows]
    sentence = [polarity(vader.polarity_scores(r["text"])["compound"]) for r in rows]
    start = time.perf_counter()
    ours = [polarity(mention_tone(r["text"], r["target"]["start"], r["target"]["end"])) for r in rows]
    seconds = time.perf_counter() - start
    (a0, f0), (a1, f1) = macro_f1(gold, sentence), macro_f1(gold, ours)
    halves = {name: round(macro_f1(gold[h::2], ours[h::2])[1] - macro_f1(gold[h::2], sentence[h::2])[1], 4)
              for h, name in ((0, "even"), (1, "odd"))}
    return {"n": len(rows), "sentence_vader": {"accuracy": a0, "macro_f1": f0},
            "newsner": {"accuracy": a1, "macro_f1": f1}, "gain_macro_f1": round(f1 - f0, 4),
            "gain_even_odd": halves,
            "ms_per_mention": round(1000 * seconds / max(len(rows), 1), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a file of the NewsMTSC format (default: rw-dev and mt-dev)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = args.data or [NEWSMTSC / "rw-dev.jsonl", NEWSMTSC / "mt-dev.jsonl"]
    results = {}
    print(f"{'file':<14} {'n':>5} {'VADER acc':>9} {'VADER F1':>9} {'newsner acc':>11} "
          f"{'newsner F1':>10} {'gain':>7} {'even':>7} {'odd':>7}")
    for path in files:
        row = evaluate(read_jsonl(require(path)))
        results[path.name] = row
        print(f"{path.name:<14} {row['n']:>5} {row['sentence_vader']['accuracy']:>9.3f} "
              f"{row['sentence_vader']['macro_f1']:>9.3f} {row['newsner']['accuracy']:>11.3f} "
              f"{row['newsner']['macro_f1']:>10.3f} {row['gain_macro_f1']:>+7.3f} "
              f"{row['gain_even_odd']['even']:>+7.3f} {row['gain_even_odd']['odd']:>+7.3f}")
    emit(results, args.out)


if __name__ == "__main__":
    main()
