import pytest
import spacy

from tasks.ner import ModelError, doc_mentions, find_mentions, load_nlp, resolve_model
from tasks.settings import NAMED_LABELS


@pytest.fixture(scope="module")
def ruler_nlp():
    """A blank English pipeline whose entities come from rules: no model needed."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("newsner_paragraphs")
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


def test_all_caps_lines_are_title_cased_for_ner_only():
    from tasks.ner import ner_view

    text = "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .\nAL-AIN 1996-12-06\nJapan won."
    view = ner_view(text)
    assert len(view) == len(text)
    assert view.splitlines() == ["Soccer - Japan Get Lucky Win , China In Surprise Defeat .",
                                 "Al-Ain 1996-12-06", "Japan won."]
