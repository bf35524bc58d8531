import subprocess
import sys

import pytest
import spacy

from tasks.ner import (
    ModelError,
    doc_mentions,
    find_mentions,
    load_nlp,
    register_components,
    resolve_model,
)
from tasks.settings import NAMED_LABELS
from tests.conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def ruler_nlp():
    """A blank English pipeline whose entities come from rules: no model needed."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(register_components())
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PERSON", "pattern": [{"LOWER": "kim"}, {"LOWER": "jong"}, {"ORTH": "-"},
                                        {"LOWER": "un"}]},
        {"label": "PERSON", "pattern": "Kim"},
        {"label": "GPE", "pattern": [{"LOWER": "north"}, {"LOWER": "korea"}, {"ORTH": "’s"}]},
        {"label": "GPE", "pattern": "Seoul"},
        {"label": "ORG", "pattern": [{"LOWER": "the"}, {"LOWER": "pentagon"}]},
        {"label": "CARDINAL", "pattern": "two"},
    ])
    return nlp


TEXT = "Kim Jong-un spoke in Seoul\nNorth Korea’s two envoys left. Kim stayed. The Pentagon knew."


def test_mentions_carry_exact_offsets_sentences_and_canonical_keys(ruler_nlp):
    mentions = find_mentions(ruler_nlp, [{"article_id": "a", "text": TEXT}], labels=NAMED_LABELS)
    for m in mentions:
        assert TEXT[m["start_char"]:m["end_char"]] == m["text"]
    assert [(m["text"], m["sentence_index"], m["entity_id"]) for m in mentions] == [
        ("Kim Jong-un", 0, "person:kim jong un"),
        ("Seoul", 0, "place:seoul"),
        ("North Korea’s", 1, "place:north korea"),  # a paragraph break starts a sentence
        ("Kim", 2, "person:kim jong un"),
        ("Pentagon", 3, "org:pentagon"),  # a leading "the" is not part of the name
    ]


def test_sentences_end_at_their_last_character_not_at_the_line_break_after_it(ruler_nlp):
    sentences: list[dict] = []
    find_mentions(ruler_nlp, [{"article_id": "a", "text": TEXT}], labels=NAMED_LABELS,
                  sentences=sentences)
    assert [TEXT[s["start_char"]:s["end_char"]] for s in sentences] == [
        "Kim Jong-un spoke in Seoul", "North Korea’s two envoys left.", "Kim stayed.",
        "The Pentagon knew."]
    assert [s["sentence_index"] for s in sentences] == [0, 1, 2, 3]


def test_labels_outside_the_setting_are_left_out(ruler_nlp):
    doc = ruler_nlp(TEXT)
    assert "CARDINAL" not in {m["label"] for m in doc_mentions(doc, NAMED_LABELS)}
    assert "CARDINAL" in {m["label"] for m in doc_mentions(doc, ["CARDINAL"])}


def test_unknown_model_is_a_one_line_error_that_says_how_to_install():
    with pytest.raises(ModelError) as err:
        resolve_model("xx_no_such_pipeline")
    assert "pip install" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_default_model_keeps_only_ner_and_sentences_and_finds_the_same_entities(nlp):
    assert set(nlp.pipe_names) <= {"ner", "senter", "newsner_paragraphs"}
    assert load_nlp("en_core_web_sm") is nlp  # loaded once per process
    full = spacy.load(resolve_model("en_core_web_sm"))
    texts = [TEXT, "Russian President Vladimir Putin met Kim Jong-un in Moscow on Tuesday."]
    for text in texts:
        assert [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents] == [
            (e.start_char, e.end_char, e.label_) for e in full(text).ents]


@pytest.mark.slow
def test_the_model_multiplies_on_numpy_blas_in_one_thread_and_finds_what_blis_finds(nlp):
    from thinc.api import NumpyOps
    from threadpoolctl import threadpool_info

    from tasks.ner import _load, ner_view

    layers = [node for _, c in nlp.pipeline if hasattr(c, "model") for node in c.model.walk()]
    assert layers and not any(node.ops.use_blis for node in layers)
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
    with_blis = _load.__wrapped__("en_core_web_sm", ())  # the same pipeline, freshly loaded...
    blis = NumpyOps()  # ...with thinc's default ops back
    for _, component in with_blis.pipeline:
        for node in component.model.walk() if hasattr(component, "model") else ():
            node.ops = blis
    texts = [ner_view(p.read_text()) for p in sorted(SEEDS.glob("*.txt"))]

    def found(pipeline) -> list:
        return [([(e.start_char, e.end_char, e.label_) for e in doc.ents],
                 [s.start_char for s in doc.sents]) for doc in pipeline.pipe(texts)]

    assert found(nlp) == found(with_blis) and sum(len(ents) for ents, _ in found(nlp)) > 100


def test_all_caps_lines_are_title_cased_for_ner_only():
    from tasks.ner import ner_view

    text = "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .\nAL-AIN 1996-12-06\nJapan won."
    view = ner_view(text)
    assert len(view) == len(text)
    assert view.splitlines() == ["Soccer - Japan Get Lucky Win , China In Surprise Defeat .",
                                 "Al-Ain 1996-12-06", "Japan won."]


def _doc(tokens: list[tuple], label: str = "PERSON"):
    """A Doc of (token text, IOB tag[, space after]) tuples: by default a token is followed by a
    space unless it is, or comes before, a line break; tags name `label`."""
    from spacy.tokens import Doc

    words = [t[0] for t in tokens]
    spaces = [t[2] if len(t) > 2 else
              not (t[0] == "\n" or (i + 1 < len(words) and words[i + 1] == "\n"))
              for i, t in enumerate(tokens)]
    ents = [f"{t[1]}-{label}" if t[1] in "BI" else "O" for t in tokens]
    return Doc(spacy.blank("en").vocab, words=words, spaces=spaces, ents=ents,
               sent_starts=[i == 0 for i in range(len(words))])


@pytest.mark.parametrize(
    ("tokens", "label", "expected"),
    [
        # a seed number before a player: "2 Andy Roddick"
        ([("2", "B"), ("Andy", "I"), ("Roddick", "I"), ("won", "O")], "PERSON", ["Andy Roddick"]),
        # a score after a name, and a line break inside the span
        ([("Roddick", "B"), ("30", "I"), ("0", "I")], "PERSON", ["Roddick"]),
        ([("Bill", "B"), ("Berkrot", "I"), ("\n", "I"), ("Next", "O")], "PERSON", ["Bill Berkrot"]),
        ([("Barry", "B"), ("Lane", "I"), ("\n", "I"), ("Smith", "I")], "PERSON",
         ["Barry Lane", "Smith"]),
        # a fixture: two clubs in one span are two names
        ([("Brentford", "B"), ("v", "I"), ("Manchester", "I"), ("United", "I")], "PERSON",
         ["Brentford", "Manchester United"]),
        ([("Goalkeeper", "B"), ("Edwin", "I"), ("(", "I"), ("Ajax", "I"), (")", "I")], "PERSON",
         ["Goalkeeper Edwin", "Ajax"]),
        # a lowercase prefix or description, dashes and trailing words
        ([("ex", "B"), ("-", "I"), ("Yukos", "I"), ("boss", "O")], "PERSON", ["Yukos"]),
        ([("sprinter", "B"), ("Kelly", "I"), ("Holmes", "I")], "PERSON", ["Kelly Holmes"]),
        ([("--", "B"), ("Greg", "I"), ("Frost", "I")], "PERSON", ["Greg Frost"]),
        ([("Alan", "B"), ("Milburn", "I"), ("-", "I"), ("the", "I")], "PERSON", ["Alan Milburn"]),
        # units and common words are not names
        ([("12", "O"), ("cts", "B"), ("a", "O")], "ORG", []),
        ([("mln", "B")], "ORG", []),
        # what a name may hold: particles, hyphens, a closing lowercase part
        ([("de", "B"), ("Gaulle", "I")], "PERSON", ["de Gaulle"]),
        ([("Kim", "B"), ("Jong", "I", False), ("-", "I", False), ("un", "I")], "PERSON",
         ["Kim Jong-un"]),
        # numbers and dates keep the model's own span
        ([("2", "B"), ("mln", "I")], "CARDINAL", ["2 mln"]),
    ],
)
def test_a_mention_is_a_name_without_the_junk_around_it(tokens, label, expected):
    doc = _doc(tokens, label)
    found = doc_mentions(doc, [*NAMED_LABELS, "CARDINAL"])
    assert [m["text"] for m in found] == expected
    assert all(doc.text[m["start_char"]:m["end_char"]] == m["text"] for m in found)
    assert all(m["label"] == label for m in found)


def test_worker_batches_are_capped_by_articles_and_by_text_in_order():
    from tasks.workers import sub_batches

    articles = [{"article_id": str(n), "text": "x" * size}
                for n, size in enumerate([10, 10, 10, 50, 200, 10, 10])]
    batches = list(sub_batches(articles, 2, 60))
    assert [[a["article_id"] for a in b] for b in batches] == [
        ["0", "1"], ["2", "3"], ["4"], ["5", "6"]]  # 10 + 50 fits in 60; 200 is alone
    assert [a for b in batches for a in b] == articles


def test_ner_workers_import_neither_prefect_nor_duckdb():
    # a worker imports the functions it runs by module: those modules stay light, so workers are
    # ready sooner and take no CPU from the run's start
    modules = ["tasks.workers", "tasks.recall", "tasks.geocode", "tasks.speech_rows"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
            "print(sorted(m for m in ('prefect', 'duckdb') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert found == "[]"


def test_ner_hands_propagation_the_bare_names_and_forms_it_would_find_itself():
    # NER finds each article's bare names once (for the corpus counts) and stages them with the
    # forms whose counts propagation reads; the propagation given them adds what it adds when
    # it finds them again on its own
    from tasks.ner import ner_view
    from tasks.recall import bare_names, candidate_forms, corpus_counts, propagate
    from tasks.workers import NerConfig, extract_rows

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("entity_ruler").add_patterns([
        {"label": "PERSON", "pattern": [{"LOWER": "stanislav"}, {"LOWER": "sharetsky"}]}])
    articles = [{"article_id": "a1", "language": "en", "language_evidence": "detected",
                 "text": "MINSK TALKS END\nStanislav Sharetsky spoke in Minsk on Monday.\n"
                         "Later on that day Sharetsky said the talks were over for now."}]
    rows = extract_rows(nlp, articles, NerConfig(model="blank", labels=NAMED_LABELS))
    assert set(articles[0]) == {"article_id", "language", "language_evidence", "text"}
    staged = {r["article_id"]: list(zip(r["starts"], r["ends"], strict=True))
              for r in rows["names"]}
    text = articles[0]["text"]
    assert staged == {"a1": bare_names(ner_view(text))}
    assert [text[s:e] for s, e in staged["a1"]][:2] == ["MINSK TALKS END", "Stanislav Sharetsky"]
    forms = rows["names"][0]["forms"]
    assert forms == sorted(candidate_forms(ner_view(text), bare_names(ner_view(text))))
    assert {"Minsk Talks End", "Sharetsky", "sharetsky", "Minsk"} <= set(forms)  # the view's
    given = [{**articles[0], "names": staged["a1"]}]
    corpus = corpus_counts(given, rows["mentions"])
    assert corpus.counts == corpus_counts(articles, rows["mentions"]).counts
    found = propagate(articles, rows["mentions"], rows["sentences"], corpus)
    assert propagate(given, rows["mentions"], rows["sentences"], corpus) == found
    assert [m["text"] for m in found if m["rule"] == "article"] == ["Sharetsky"]


def test_a_chunk_is_spread_over_the_workers_in_batches_of_equal_size():
    from tasks.workers import SUB_BATCH, even_batch_size

    assert even_batch_size(171, 2) == 43  # 43, 43, 43, 42: no batch left for one worker alone
    for n_articles in (1, 63, 64, 65, 171, 500, 999):
        for processes in (1, 2, 3):
            size = even_batch_size(n_articles, processes)
            batches = -(-n_articles // size)
            assert size <= SUB_BATCH
            assert batches % processes == 0 or batches < processes
            assert n_articles - (batches - 1) * size >= size - batches  # the last one is not short
