"""NER quality on CoNLL-2003 dev (../shared/data/conll2003-dev): the newsner pipeline beside the
raw spaCy model on the same texts, in one run. Exact span and label match, per label and overall.

Usage: python -m benchmarks.ner_quality
"""

from __future__ import annotations

import difflib
from collections import Counter

import spacy

from benchmarks.common import DATA, read_jsonl
from tasks.clean import clean_article
from tasks.ner import find_mentions, load_nlp, resolve_model
from tasks.settings import Settings

# OntoNotes -> CoNLL labels (../shared/data/README.md); labels not listed are not scored.
CONLL = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG",
         "NORP": "MISC", "EVENT": "MISC", "PRODUCT": "MISC", "WORK_OF_ART": "MISC",
         "LAW": "MISC", "LANGUAGE": "MISC"}
LABELS = ("PER", "ORG", "LOC", "MISC")


def offset_map(raw: str, cleaned: str) -> list[int | None]:
    """Return, for each character of `cleaned`, its offset in `raw` (None where it was inserted)."""
    mapping: list[int | None] = [None] * (len(cleaned) + 1)
    matcher = difflib.SequenceMatcher(None, raw, cleaned, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for i in range(size):
            mapping[b + i] = a + i
    mapping[len(cleaned)] = len(raw)
    return mapping


def score(gold: list[set], predicted: list[set]) -> dict[str, tuple[float, float, float]]:
    """Return label -> (precision, recall, F1) over documents, plus 'overall' (micro)."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=True):
        for span in p & g:
            tp[span[2]] += 1
        for span in p - g:
            fp[span[2]] += 1
        for span in g - p:
            fn[span[2]] += 1
    out = {}
    for label in (*LABELS, "overall"):
        t, f_p, f_n = ((sum(c.values()) for c in (tp, fp, fn)) if label == "overall"
                       else (tp[label], fp[label], fn[label]))
        precision = t / (t + f_p) if t + f_p else 0.0
        recall = t / (t + f_n) if t + f_n else 0.0
        out[label] = (precision, recall,
                      2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return out


def raw_model_spans(texts: list[str], model: str) -> list[set]:
    """Return the mapped entity spans of the full spaCy pipeline on the raw texts."""
    nlp = spacy.load(resolve_model(model))
    return [{(e.start_char, e.end_char, CONLL[e.label_]) for e in doc.ents if e.label_ in CONLL}
            for doc in nlp.pipe(texts, batch_size=64)]


def pipeline_spans(docs: list[dict], settings: Settings) -> list[set]:
    """Return the spans newsner stores (ingest cleaning + NER stage), mapped back to raw offsets."""
    cleaned = []
    for doc in docs:
        record = {"external_id": doc["doc_id"], "input_path": "conll", "text": doc["text"],
                  "layout": "wire"}
        article, _ = clean_article(record, max_chars=settings.max_chars)
        cleaned.append({"article_id": doc["doc_id"], "text": article["text"] if article else ""})
    mentions = find_mentions(load_nlp(settings.model), [c for c in cleaned if c["text"]],
                             labels=settings.labels, batch_size=settings.batch_size)
    by_doc: dict[str, set] = {doc["doc_id"]: set() for doc in docs}
    maps = {c["article_id"]: offset_map(d["text"], c["text"]) for d, c in zip(docs, cleaned,
                                                                                strict=True)}
    for m in mentions:
        if m["label"] not in CONLL:
            continue
        start, end = maps[m["article_id"]][m["start_char"]], maps[m["article_id"]][m["end_char"]]
        if start is not None and end is not None:
            by_doc[m["article_id"]].add((start, end, CONLL[m["label"]]))
    return [by_doc[doc["doc_id"]] for doc in docs]


def main() -> None:
    settings = Settings()
    docs = read_jsonl(DATA / "conll2003-dev" / "docs_valid.jsonl")
    gold = [{(e["start"], e["end"], e["label"]) for e in doc["entities"]} for doc in docs]
    results = {
        "raw model": score(gold, raw_model_spans([d["text"] for d in docs], settings.model)),
        "newsner pipeline": score(gold, pipeline_spans(docs, settings)),
    }
    print(f"CoNLL-2003 dev: {len(docs)} documents, {sum(map(len, gold)):,} gold entities, "
          f"model {settings.model}; exact span + label")
    print(f"{'system':<18} {'label':<8} {'P':>6} {'R':>6} {'F1':>6}")
    for system, table in results.items():
        for label, (p, r, f) in table.items():
            print(f"{system:<18} {label:<8} {p:>6.3f} {r:>6.3f} {f:>6.3f}")


if __name__ == "__main__":
    main()
