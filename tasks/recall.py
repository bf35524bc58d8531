"""Recall from the article and the corpus, the pure core of propagation (tasks/propagate.py):
names the model found in one place are marked where it missed them, as mentions with their own
rule (never over a model span).

- rule "article": a person the model found is named again, in full or by surname, where the model
  missed it ("Sharetsky said").
- rule "corpus": a form the model labels one way, in most articles where it appears and in at
  least two of them, is marked where the model missed it.

Only "bare" names count: a maximal run of capitalised words, in a line of prose, that no model
span touches, and never a lowercase word's capitalised twin ("Media", "Finance").
"""

from __future__ import annotations

import importlib.util
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tasks.canonical import assign_entities
from tasks.ner import NAME_PARTICLES, ner_view

MIN_VOTES = 2        # model decisions (in the article or other articles) behind an added label
MIN_LABELLED = 0.7   # share of the articles with the form in which the model labels it
MIN_LENGTH = 3
_TOKEN = re.compile(r"[^\W_][\w]*(?:[-'’.][^\W_]+)*\.?")
_NUMBER = re.compile(r"^[\d.,:/%+()-]+$")
_LOWER_WORD = re.compile(r"\b[a-z]+\b")
# name_forms labels besides the model's: a form seen but never labelled in an article, and a
# lowercase word (its articles counted under the word itself)
NONE, LOWERCASE = "", "lowercase"


@cache
def _stop_words() -> frozenset[str]:
    """Return spaCy's English stop words, read from their file: importing them would import
    spaCy itself (0.7 s), which a run's own process otherwise never needs."""
    spacy = importlib.util.find_spec("spacy")
    source = Path(spacy.submodule_search_locations[0]) / "lang" / "en" / "stop_words.py"
    found: dict = {}
    exec(compile(source.read_text(encoding="utf-8"), str(source), "exec"), found)  # noqa: S102
    return frozenset(found["STOP_WORDS"])


def bare_names(view: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every maximal run of capitalised words in `view`, without the
    stop words that open a sentence ("In Moscow" -> "Moscow")."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(view)]
    found, i = [], 0
    while i < len(tokens):
        if not tokens[i][2][0].isupper():
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and view[tokens[j][1]:tokens[j + 1][0]] == " ":
            word = tokens[j + 1][2]
            particle = (word in NAME_PARTICLES and j + 2 < len(tokens)
                        and tokens[j + 2][2][0].isupper()
                        and view[tokens[j + 1][1]:tokens[j + 2][0]] == " ")
            if not (word[0].isupper() or particle):
                break
            j += 1
        run = tokens[i:j + 1]
        while run and run[0][2].lower() in _stop_words():
            run = run[1:]
        if run:
            start, end = run[0][0], run[-1][1]
            if view[end - 1] == "." and not re.search(r"\b[A-Z]\.$", view[start:end]):
                end -= 1  # a sentence's full stop, not "U.S."
            found.append((start, end))
        i = j + 1
    return found


def is_prose(line: str) -> bool:
    """Return True for a line of running text, False for a table row or a heading."""
    tokens = line.split()
    words = sum(t.isalpha() and t.islower() for t in tokens)
    return words >= 4 and sum(bool(_NUMBER.match(t)) for t in tokens) <= words


@dataclass
class FormCounts:
    """Per form: articles where the model gave it each label, or never labelled it, or where the
    form occurs as a lowercase word. Summed over the corpus (name_forms) and a run."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, form: str, label: str, n: int = 1) -> None:
        self.counts[form][label] += n

    def rows(self, model: str) -> list[dict]:
        return [{"model": model, "form": form, "label": label, "n_articles": n}
                for form, labels in sorted(self.counts.items()) for label, n in sorted(labels.items())]

    def merge(self, rows: Iterable[tuple[str, str, int]]) -> FormCounts:
        """Return these counts plus stored (form, label, n_articles) rows."""
        merged = FormCounts()
        for form, labels in self.counts.items():
            merged.counts[form].update(labels)
        for form, label, n in rows:
            merged.counts[form][label] += n
        return merged


def _article_forms(view: str, mentions: Sequence[dict]) -> dict[str, Counter]:
    """Return form -> label votes of the model's own mentions in one article."""
    forms: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        if m.get("rule", "model") == "model":
            forms[view[m["start_char"]:m["end_char"]]][m["label"]] += 1
    return forms


def _people_named_in_full(view: str, mentions: Sequence[dict]) -> Counter:
    """Return the full names of the people the model found in one article, and their surnames
    ("Stanislav Sharetsky", "Sharetsky"), with how often the model names each."""
    found = [view[m["start_char"]:m["end_char"]] for m in mentions
             if m.get("rule", "model") == "model" and m["label"] == "PERSON"]
    people: Counter = Counter()
    for name in found:
        words = name.split()
        if len(words) > 1:
            people[name] += 1
            if len(words[-1]) >= MIN_LENGTH:
                people[words[-1]] += 1
    for name in found:  # the model's own uses of a surname count for it too
        if " " not in name and name in people:
            people[name] += 1
    return people


def _form_labels(text: str, mentions: Sequence[dict], view: str,
                 names: Sequence[tuple[int, int]]) -> set[tuple[str, str]]:
    """Return the (form, label) pairs one article adds to the corpus form counts, once each:
    the model's labels, the bare names it never labels here, and every lowercase word ("media":
    its capitalised twin is not a name)."""
    labelled = _article_forms(view, mentions)
    pairs = {(form, label) for form, labels in labelled.items() for label in labels}
    pairs.update((view[start:end], NONE) for start, end in names
                 if view[start:end] not in labelled)
    pairs.update((word, LOWERCASE) for word in _LOWER_WORD.findall(text))
    return pairs


def _counted(pairs: Counter) -> FormCounts:
    found = FormCounts()
    for (form, label), n in pairs.items():
        found.counts[form][label] = n
    return found


def count_forms(text: str, mentions: Sequence[dict], *, view: str | None = None,
                names: Sequence[tuple[int, int]] | None = None) -> FormCounts:
    """Return one article's contribution to the corpus form counts: each form once per article.
    `view` and `names` (the article's NER view and bare names) are found when not given."""
    view = ner_view(text) if view is None else view
    names = bare_names(view) if names is None else names
    return _counted(Counter(_form_labels(text, mentions, view, names)))


def candidate_forms(view: str, names: Sequence[tuple[int, int]]) -> set[str]:
    """Return the forms of an article (its NER view and bare names) whose corpus counts
    propagation may read."""
    forms = {view[s:e] for s, e in names}
    return forms | {f.lower() for f in forms if " " not in f}


def added_mentions(text: str, mentions: Sequence[dict], corpus: FormCounts, *,
                   view: str | None = None, names: Sequence[tuple[int, int]] | None = None,
                   ) -> list[dict]:
    """Return the mentions to add to one article (model mentions given), with rule and label.

    `view` and `names` (the article's NER view and bare names) are computed when not given.
    """
    view = ner_view(text) if view is None else view
    names = bare_names(view) if names is None else names
    here = _article_forms(view, mentions)
    people = _people_named_in_full(view, mentions)
    spans = sorted((m["start_char"], m["end_char"]) for m in mentions)
    prose: dict[int, bool] = {}
    added = []
    for start, end in names:
        if any(a < end and start < b for a, b in spans):
            continue
        form = view[start:end]
        stats = corpus.counts.get(form)
        if len(form) < MIN_LENGTH or (form not in people and not stats):
            continue  # the model never labelled this form: nothing to go by
        stats = stats or Counter()
        if " " not in form and (form.isupper() or corpus.counts.get(
                form.lower(), {}).get(LOWERCASE)):
            continue
        # the model's decisions: here, and in the corpus's other articles
        elsewhere = Counter({label: n - (label in here.get(form, ())) for label, n in stats.items()
                             if label not in (NONE, LOWERCASE)})
        if form in people:
            votes, rule = +(Counter({"PERSON": people[form]}) + elsewhere), "article"
        elif form in here:
            continue  # a form the model labels here only in part: its call, not ours
        else:
            votes, rule = +elsewhere, "corpus"
        if len(votes) != 1:
            continue  # unknown, or labelled more than one way
        (label, n), = votes.items()
        seen = sum(stats.values()) - stats[LOWERCASE]
        labelled = seen - stats[NONE]
        if rule == "corpus" and n < MIN_VOTES:
            continue
        if labelled and stats[label] < MIN_LABELLED * seen:
            continue  # the model mostly leaves this form alone
        line_start = view.rfind("\n", 0, start) + 1
        if line_start not in prose:
            line_end = view.find("\n", end) % (len(view) + 1)
            prose[line_start] = is_prose(view[line_start:line_end])
        if prose[line_start]:
            added.append({"start_char": start, "end_char": end, "text": text[start:end],
                          "label": label, "rule": rule})
    return added


def propagate_article(text: str, mentions: list[dict], corpus: FormCounts,
                      sentence_starts: Sequence[int], *, view: str | None = None,
                      names: Sequence[tuple[int, int]] | None = None) -> list[dict]:
    """Return the article's mentions with the added ones, in text order, keys assigned anew."""
    extra = added_mentions(text, mentions, corpus, view=view, names=names)
    if not extra:
        return mentions
    for m in extra:
        m["sentence_index"] = max(bisect_right(sentence_starts, m["start_char"]) - 1, 0)
    every = sorted([{k: m[k] for k in ("start_char", "end_char", "sentence_index", "text",
                                       "label")} | {"rule": m.get("rule", "model")}
                    for m in [*mentions, *extra]], key=lambda m: m["start_char"])
    return assign_entities(every, text)


def with_names(articles: Sequence[dict]) -> None:
    """Give each article (a dict with text) its NER view and bare names, as `view` and `names`,
    which corpus_counts and propagate read instead of finding them again."""
    for article in articles:
        article["view"] = ner_view(article["text"])
        article["names"] = bare_names(article["view"])


def corpus_counts(articles: Sequence[dict], mentions: Sequence[dict]) -> FormCounts:
    """Return the form counts of `articles` (with their model mentions) taken as one corpus;
    an article's `view` and `names` (with_names) are found when it has none."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        by_article[m["article_id"]].append(m)
    pairs: Counter = Counter()  # (form, label) -> articles: counted in C, one set per article
    for article in articles:
        view = article["view"] if "view" in article else ner_view(article["text"])
        names = article["names"] if "names" in article else bare_names(view)
        pairs.update(_form_labels(article["text"], by_article[article["article_id"]], view, names))
    return _counted(pairs)


def propagate(articles: Sequence[dict], mentions: Sequence[dict], sentences: Sequence[dict],
              corpus: FormCounts) -> list[dict]:
    """Return every mention of `articles` (the ones NER processed: dicts with article_id and
    text) with the added ones, given the corpus's form counts."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        by_article[m["article_id"]].append(m)
    starts: dict[str, list[int]] = defaultdict(list)
    for s in sorted(sentences, key=lambda s: (s["article_id"], s["sentence_index"])):
        starts[s["article_id"]].append(s["start_char"])
    out = []
    for article in articles:
        found = by_article[article["article_id"]]
        shared = {k: found[0][k] for k in ("article_id", "model", "model_version", "run_id")
                  if found and k in found[0]}
        for m in propagate_article(article["text"], found, corpus, starts[article["article_id"]],
                                   view=article.get("view"), names=article.get("names")):
            out.append({**shared, **m})
    return out
