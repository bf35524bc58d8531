"""Propagation: names the model found in one place, marked where it missed them."""

from __future__ import annotations

from collections import Counter

from tasks.recall import (
    LOWERCASE,
    NONE,
    FormCounts,
    added_mentions,
    bare_names,
    corpus_counts,
    count_forms,
    is_prose,
    propagate,
)


def _mention(text: str, surface: str, label: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"article_id": "a", "start_char": start, "end_char": start + len(surface),
            "sentence_index": 0, "text": surface, "label": label}


def test_bare_names_are_maximal_runs_of_capitalised_words_without_sentence_openers():
    text = "In Moscow on Monday, Vladimir Putin met Kim Jong-un and Charles de Gaulle's heirs."
    assert [text[s:e] for s, e in bare_names(text)] == [
        "Moscow", "Monday", "Vladimir Putin", "Kim Jong-un", "Charles de Gaulle's"]
    text = "He left the U.S. for Paris."
    assert [text[s:e] for s, e in bare_names(text)] == ["U.S.", "Paris"]


def test_prose_lines_are_told_from_table_rows():
    assert is_prose("Sharetsky said on Friday that the vote would go ahead.")
    assert not is_prose("Ajax Amsterdam 2 PSV Eindhoven 1 ( Ronaldo 70 )")
    assert not is_prose("Attendance 30,000")


ARTICLE = ("Belarus opposition leader Stanislav Sharetsky called for a vote on Friday.\n"
           "Sharetsky said the new constitution would give the president too much power, and "
           "he told reporters that Sharetsky and his allies would not back down.\n"
           "Media reports said the vote could be held in November, and the media in Minsk agreed.")


def test_a_person_named_in_full_is_marked_where_the_model_missed_the_surname():
    found = [_mention(ARTICLE, "Stanislav Sharetsky", "PERSON"), _mention(ARTICLE, "Belarus", "GPE"),
             _mention(ARTICLE, "Minsk", "GPE")]
    added = added_mentions(ARTICLE, found, count_forms(ARTICLE, found))
    assert [(m["text"], m["label"], m["rule"]) for m in added] == [
        ("Sharetsky", "PERSON", "article"), ("Sharetsky", "PERSON", "article")]
    assert all(ARTICLE[m["start_char"]:m["end_char"]] == m["text"] for m in added)


def test_a_form_the_corpus_labels_one_way_is_marked_where_the_model_missed_it():
    found = [_mention(ARTICLE, "Stanislav Sharetsky", "PERSON")]
    corpus = count_forms(ARTICLE, found).merge([("Minsk", "GPE", 3), ("Belarus", "GPE", 2),
                                                ("Belarus", "PERSON", 1), ("November", NONE, 4),
                                                ("November", "DATE", 1)])
    added = {(m["text"], m["label"], m["rule"]) for m in added_mentions(ARTICLE, found, corpus)}
    assert ("Minsk", "GPE", "corpus") in added
    assert not {t for t, _, _ in added} & {"Belarus", "November"}  # two labels; mostly unlabelled
    assert "Media" not in {t for t, _, _ in added}  # "media" is a word of the text


def test_a_lowercase_word_of_the_corpus_is_never_a_name():
    text = "Finance ministers met in Brussels on Monday to discuss the budget and the euro zone."
    found = [_mention(text, "Brussels", "GPE")]
    corpus = count_forms(text, found).merge([("Finance", "ORG", 5), ("finance", LOWERCASE, 40)])
    assert added_mentions(text, found, corpus) == []
    corpus = count_forms(text, found).merge([("Finance", "ORG", 5)])
    assert [m["text"] for m in added_mentions(text, found, corpus)] == ["Finance"]


def test_nothing_is_marked_over_a_model_span_or_in_a_table():
    text = "Results on Sunday :\nAjax Amsterdam 2 Feyenoord 0\nAjax won the title again this year."
    found = [_mention(text, "Ajax", "ORG", nth=1)]
    corpus = FormCounts()
    corpus.counts["Feyenoord"] = Counter({"ORG": 5})
    corpus.counts["Ajax"] = Counter({"ORG": 9})
    assert added_mentions(text, found, corpus) == []


def test_propagate_adds_mentions_and_keys_them_with_the_article():
    found = [{**_mention(ARTICLE, "Stanislav Sharetsky", "PERSON"), "model": "m",
              "model_version": "1", "run_id": "r"}]
    sentences = [{"article_id": "a", "sentence_index": i, "start_char": s}
                 for i, s in enumerate([0, ARTICLE.index("Sharetsky said"), ARTICLE.index("Media")])]
    articles = [{"article_id": "a", "text": ARTICLE}]
    counts = corpus_counts(articles, found)
    every = propagate(articles, found, sentences, counts)
    assert [(m["text"], m.get("rule", "model"), m["sentence_index"], m["key"]) for m in every] == [
        ("Stanislav Sharetsky", "model", 0, "person:stanislav sharetsky"),
        ("Sharetsky", "article", 1, "person:stanislav sharetsky"),
        ("Sharetsky", "article", 1, "person:stanislav sharetsky")]
    assert all(m["model"] == "m" and m["run_id"] == "r" for m in every)
    assert counts.counts["Stanislav Sharetsky"] == Counter({"PERSON": 1})
    assert counts.counts["media"] == Counter({LOWERCASE: 1})


def test_stop_words_are_spacys_own_read_without_importing_spacy():
    from spacy.lang.en.stop_words import STOP_WORDS

    from tasks.recall import _stop_words

    assert _stop_words() == frozenset(STOP_WORDS) and "’s" in _stop_words()
