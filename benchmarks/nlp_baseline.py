"""The baseline `make bench-pipeline` compares newsner with: plain spaCy `nlp.pipe` (ner and
senter only, the same number of processes, model load included) over the texts of a JSONL file.

Usage: python -m benchmarks.nlp_baseline FILE.jsonl --processes N
"""

from __future__ import annotations

import argparse
import json

from tasks.ner import resolve_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--model", default="en_core_web_sm")
    args = parser.parse_args()
    import spacy

    nlp = spacy.load(resolve_model(args.model),
                     exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    nlp.enable_pipe("senter")
    with open(args.corpus, encoding="utf-8") as handle:
        texts = (json.loads(line)["text"] for line in handle)
        entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64,
                                                         n_process=args.processes))
    print(json.dumps({"entities": entities}))


if __name__ == "__main__":
    main()
