"""The baseline `make bench-pipeline` compares newsner with: plain spaCy `nlp.pipe` (ner and
senter only, the same number of processes, model load included) over the texts of a JSONL file.
With --numpy-blas the pipeline's matrix products run on numpy's BLAS in one thread, as newsner
runs them (tasks.ner.use_numpy_blas): the like-for-like baseline, which shows what newsner's own
stages cost beside the model.

Usage: python -m benchmarks.nlp_baseline FILE.jsonl --processes N [--numpy-blas]
"""

from __future__ import annotations

import argparse
import json

from tasks.ner import resolve_model, use_numpy_blas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--numpy-blas", action="store_true",
                        help="matrix products on numpy's BLAS, one thread, as newsner runs them")
    args = parser.parse_args()
    import spacy

    nlp = spacy.load(resolve_model(args.model),
                     exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    nlp.enable_pipe("senter")
    if args.numpy_blas:
        use_numpy_blas(nlp)  # before the workers fork: they inherit the pipeline as it is here
    with open(args.corpus, encoding="utf-8") as handle:
        texts = (json.loads(line)["text"] for line in handle)
        entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64,
                                                         n_process=args.processes))
    print(json.dumps({"entities": entities}))


if __name__ == "__main__":
    main()
