"""Entity quality, the way a run produces entities, beside the raw spaCy model on the same texts.

- NER on CoNLL-2003 train (where rules are developed) and dev (the check), or on DATA=FILE of the
  same format: per document, the multiset of (casefolded surface text, mapped label), as
  ../shared/data/README.md scores it, per CoNLL label; exact spans overall too.
- Mentions added by propagation: precision (exact span and label), and the share of the model's
  missed gold mentions they recover.
- Language routing: English sent to NER, German and Portuguese feed items kept out.
- Merges at corpus scale on AIDA-CoNLL train: pairwise precision and recall of "same entity" over
  the linked mentions newsner finds, beside "same casefolded surface text" on the same mentions.

Usage: python -m benchmarks.ner_quality [--data FILE]
"""

from __future__ import annotations

import argparse
import difflib
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

import spacy

from benchmarks.common import DATA, read_jsonl, require
from tasks.clean import clean_article, goes_to_ner
from tasks.ner import acronym_rows, find_mentions, load_nlp, model_language, resolve_model
from tasks.readers import parse_feed
from tasks.recall import corpus_counts, propagate
from tasks.resolve import resolve_mentions
from tasks.settings import Settings

# OntoNotes -> CoNLL labels (../shared/data/README.md); labels not listed are not scored.
CONLL = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG",
         "NORP": "MISC", "EVENT": "MISC", "PRODUCT": "MISC", "WORK_OF_ART": "MISC",
         "LAW": "MISC", "LANGUAGE": "MISC"}
LABELS = ("PER", "ORG", "LOC", "MISC")
SPLITS = {"train": DATA / "conll2003-train" / "docs_train.jsonl",
          "dev": DATA / "conll2003-dev" / "docs_valid.jsonl"}


def offset_map(raw: str, cleaned: str) -> list[int | None]:
    """Return, for each character of `cleaned`, its offset in `raw` (None where it was inserted)."""
    mapping: list[int | None] = [None] * (len(cleaned) + 1)
    matcher = difflib.SequenceMatcher(None, raw, cleaned, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for i in range(size):
            mapping[b + i] = a + i
    mapping[len(cleaned)] = len(raw)
    return mapping


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall)
                               if precision + recall else 0.0)


def score(gold: list[list[tuple]], predicted: list[list[tuple]]) -> dict[str, tuple]:
    """Return label -> (P, R, F1) over documents of multisets of (key, label) items, plus
    'overall' (micro)."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=True):
        g, p = Counter(g), Counter(p)
        for item in g | p:
            hit = min(g[item], p[item])
            tp[item[-1]] += hit
            fp[item[-1]] += p[item] - hit
            fn[item[-1]] += g[item] - hit
    out = {label: prf(tp[label], fp[label], fn[label]) for label in LABELS}
    out["overall"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return out


def raw_model_spans(texts: list[str], model: str) -> list[list[tuple[int, int, str]]]:
    """Return the mapped entity spans of the full spaCy pipeline on the raw texts."""
    nlp = spacy.load(resolve_model(model))
    return [[(e.start_char, e.end_char, CONLL[e.label_]) for e in doc.ents if e.label_ in CONLL]
            for doc in nlp.pipe(texts, batch_size=64)]


def run_pipeline(docs: list[dict], settings: Settings, sentences: list[dict] | None = None,
                 ) -> tuple[list[dict], list[dict], dict]:
    """Clean, route, find and propagate mentions as a run does, over `docs` as one corpus.

    Return (articles, mentions with offsets into the cleaned texts, raw offset maps); the
    sentences go to `sentences` when it is given.
    """
    language = model_language(settings.model)
    articles = []
    for doc in docs:
        record = {"external_id": doc["doc_id"], "input_path": "bench", "text": doc["text"],
                  "layout": "wire"}
        article, _ = clean_article(record, max_chars=10**7, model_language=language)
        if article:
            articles.append({**article, "article_id": doc["doc_id"]})
    routed = [a for a in articles if goes_to_ner(a, language)]
    sentences = [] if sentences is None else sentences
    mentions = find_mentions(load_nlp(settings.model), routed, labels=settings.labels,
                             batch_size=settings.batch_size, sentences=sentences)
    mentions = propagate(routed, mentions, sentences, corpus_counts(routed, mentions))
    maps = {a["article_id"]: offset_map(d["text"], a["text"])
            for d in docs for a in articles if a["article_id"] == d["doc_id"]}
    return articles, mentions, maps


def raw_offsets(mention: dict, maps: dict) -> tuple[int, int] | None:
    mapping = maps[mention["article_id"]]
    start, end = mapping[mention["start_char"]], mapping[mention["end_char"]]
    return None if start is None or end is None else (start, end)


def ner_scores(docs: list[dict], settings: Settings) -> dict:
    """Return the raw model's and the pipeline's scores on a CoNLL-format file, and the
    precision of the mentions propagation adds."""
    texts = [d["text"] for d in docs]
    gold = [[(d["text"][e["start"]:e["end"]].casefold(), e["label"]) for e in d["entities"]]
            for d in docs]
    gold_spans = [[(e["start"], e["end"], e["label"]) for e in d["entities"]] for d in docs]
    raw = raw_model_spans(texts, settings.model)
    _, mentions, maps = run_pipeline(docs, settings)
    pipe: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    added = Counter()
    gold_by_doc = {d["doc_id"]: {(s, e): label for s, e, label in g}
                   for d, g in zip(docs, gold_spans, strict=True)}
    for m in mentions:
        where = raw_offsets(m, maps)
        if where is None or m["label"] not in CONLL:
            continue
        pipe[m["article_id"]].append((*where, CONLL[m["label"]]))
        if m.get("rule", "model") != "model":
            added[gold_by_doc[m["article_id"]].get(where) == CONLL[m["label"]]] += 1
    pipe_spans = [pipe[d["doc_id"]] for d in docs]

    def surfaces(spans):
        return [[(t[s:e].casefold(), label) for s, e, label in doc]
                for t, doc in zip(texts, spans, strict=True)]

    model_found = sum(len(set(g) & {(s, e, lab) for s, e, lab in r})
                      for g, r in zip(gold_spans, raw, strict=True))
    missed = sum(map(len, gold_spans)) - model_found
    return {
        "raw model": score(gold, surfaces(raw)),
        "pipeline": score(gold, surfaces(pipe_spans)),
        "raw exact": score(gold_spans, raw)["overall"],
        "pipeline exact": score(gold_spans, pipe_spans)["overall"],
        "added": (added[True], added[False], missed),
        "n_docs": len(docs), "n_gold": sum(map(len, gold)),
    }


def routing_scores(settings: Settings) -> dict[str, tuple[int, int]]:
    """Return set -> (articles sent to NER, articles) for the English sets, and (kept out,
    articles) for the German and Portuguese feed items."""
    language = model_language(settings.model)
    sets: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(require(DATA / "feeds-dev").iterdir()):
        records, _ = parse_feed(path.read_bytes(), origin=str(path))
        other = "heise" in path.name or "uol" in path.name
        sets["de/pt feed items (kept out)" if other else "English feed items"].extend(records)
    for name, path in (("BBC News", DATA / "bbc-news" / "articles.jsonl"),
                       ("CoNLL train", SPLITS["train"]), ("CoNLL dev", SPLITS["dev"])):
        sets[name] = [{"external_id": "x", "input_path": "x", "text": d["text"],
                       "title": d.get("title"), "layout": "wire"} for d in read_jsonl(path)]
    out = {}
    for name, records in sets.items():
        articles = [a for a, _ in (clean_article(r, max_chars=10**7, model_language=language)
                                   for r in records) if a]
        sent = sum(goes_to_ner(a, language) for a in articles)
        out[name] = (len(articles) - sent if "kept out" in name else sent, len(articles))
    return out


def pairwise(cells: Counter) -> tuple[float, float]:
    """Return (precision, recall) of "same entity" from (gold, predicted) cell counts."""
    gold, pred = Counter(), Counter()
    for (g, p), n in cells.items():
        gold[g] += n
        pred[p] += n
    tp = sum(comb(n, 2) for n in cells.values())
    return (tp / max(sum(comb(n, 2) for n in pred.values()), 1),
            tp / max(sum(comb(n, 2) for n in gold.values()), 1))


def merge_scores(settings: Settings) -> dict:
    """Return pairwise merge precision/recall on AIDA-CoNLL train for newsner's entities and for
    "same casefolded surface text", over the linked gold mentions newsner finds."""
    docs = read_jsonl(DATA / "aida-train" / "docs.jsonl")
    articles, mentions, maps = run_pipeline(docs, settings)
    entity_of = resolve_mentions(mentions, [(r["acronym"], r["key"])
                                            for r in acronym_rows(articles, mentions)])
    by_doc = defaultdict(list)
    for m in mentions:
        where = raw_offsets(m, maps)
        if where:
            by_doc[m["article_id"]].append((*where, m))
    ours, surface = Counter(), Counter()
    linked = matched = 0
    for doc in docs:
        predicted = by_doc[doc["doc_id"]]
        used: set[int] = set()
        for g in doc["mentions"]:
            if g["entity"] is None:
                continue
            linked += 1
            text = " ".join(g["text"].casefold().split())
            hit = next((i for i, (s, e, _) in enumerate(predicted)
                        if i not in used and (s, e) == (g["start"], g["end"])), None)
            if hit is None:
                hit = next((i for i, (s, e, _) in enumerate(predicted) if i not in used and
                            " ".join(doc["text"][s:e].casefold().split()) == text), None)
            if hit is None:
                ours[(g["entity"], ("unmatched", linked))] += 1
                surface[(g["entity"], ("unmatched", linked))] += 1
                continue
            used.add(hit)
            matched += 1
            s, e, m = predicted[hit]
            ours[(g["entity"], entity_of[m["key"]])] += 1
            surface[(g["entity"], " ".join(doc["text"][s:e].casefold().split()))] += 1
    return {"linked": linked, "matched": matched, "newsner": pairwise(ours),
            "same surface": pairwise(surface)}


def print_ner(name: str, result: dict) -> None:
    print(f"\n{name}: {result['n_docs']} documents, {result['n_gold']:,} gold entities "
          "(per document: casefolded surface + label)")
    print(f"{'system':<10} {'label':<8} {'P':>6} {'R':>6} {'F1':>6}")
    for system in ("raw model", "pipeline"):
        for label, (p, r, f) in result[system].items():
            print(f"{system:<10} {label:<8} {p:>6.3f} {r:>6.3f} {f:>6.3f}")
    gain = result["pipeline"]["overall"][2] - result["raw model"]["overall"][2]
    print(f"pipeline F1 - raw F1: {gain:+.3f}; exact spans: raw F1 {result['raw exact'][2]:.3f}, "
          f"pipeline F1 {result['pipeline exact'][2]:.3f}")
    right, wrong, missed = result["added"]
    if right + wrong:
        print(f"mentions added by propagation: {right + wrong}, precision {right / (right + wrong):.3f} "
              f"(exact span and label), recovering {right / max(missed, 1):.1%} of the "
              f"{missed:,} gold mentions the model missed")
    else:
        print("mentions added by propagation: none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="score this CoNLL-format JSONL file only")
    args = parser.parse_args()
    settings = Settings()
    print(f"model {settings.model}; labels mapped as in ../shared/data/README.md")
    if args.data:
        print_ner(str(args.data), ner_scores(read_jsonl(require(args.data)), settings))
        return
    for name, path in SPLITS.items():
        print_ner(f"CoNLL-2003 {name}", ner_scores(read_jsonl(path), settings))
    print("\nlanguage routing (articles through the cleaning stage of a run):")
    for name, (n, total) in routing_scores(settings).items():
        verb = "kept out of NER" if "kept out" in name else "sent to NER"
        print(f"  {name:<30} {n:>5} of {total:>5} {verb} ({n / total:.1%})")
    merges = merge_scores(settings)
    print(f"\nmerges on AIDA-CoNLL train: {merges['matched']:,} of {merges['linked']:,} linked gold "
          "mentions found; pairwise over them:")
    for system in ("newsner", "same surface"):
        p, r = merges[system]
        print(f"  {system:<13} precision {p:.3f}  recall {r:.3f}")


if __name__ == "__main__":
    main()
