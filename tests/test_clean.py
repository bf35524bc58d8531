from datetime import datetime

import pytest

from tasks.clean import (
    article_id,
    clean_article,
    clean_authors,
    clean_records,
    detect_language,
    normalize_text,
    parse_byline,
    parse_published,
    reject_rows,
    split_paragraphs,
    strip_boilerplate,
    take_wire_attribution,
)

WIRE = ("Dek line about the story.\n\nFirst  paragraph\u00a0here.\r\n"
        "Second\u200b paragraph.\nBy Guy Birchall\n\n\n")


def _record(text, **meta):
    return {"external_id": "x.txt", "input_path": "x.txt", "text": text, **meta}


def test_normalize_text_repairs_spaces_line_ends_and_invisible_characters():
    assert normalize_text("  a\u00a0 b\u200b\r\nc\tc  \n") == "a b\nc c\n"
    assert normalize_text("Cafe\u0301") == "Caf\u00e9"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("By Guy Birchall", ["Guy Birchall"]),
        ("By Hana Lee and Tomas Reyes", ["Hana Lee", "Tomas Reyes"]),
        ("BY A. SMITH, B. JONES", ["A. SMITH", "B. JONES"]),
        ("By the end of the year, prices had risen by a third.", None),
        ("Byzantine art is on show.", None),
        ("By 2030 the plant will close", None),
    ],
)
def test_parse_byline(line, expected):
    assert parse_byline(line) == expected


def test_clean_article_moves_byline_to_authors_and_dek_to_description():
    article, bad = clean_article(_record(WIRE), max_chars=10_000)
    assert bad is None
    assert article["authors"] == ["Guy Birchall"]
    assert "Birchall" not in article["text"]
    assert article["description"] == "Dek line about the story."
    assert article["text"] == "Dek line about the story.\nFirst paragraph here.\nSecond paragraph."
    assert article["word_count"] == 10


def test_metadata_authors_win_over_the_byline_which_still_leaves_the_text():
    article, _ = clean_article(_record(WIRE, authors=["Desk Editor"]), max_chars=10_000)
    assert article["authors"] == ["Desk Editor"] and "Birchall" not in article["text"]


def test_missing_date_stays_null_and_says_so():
    article, _ = clean_article(_record(WIRE), max_chars=10_000)
    assert article["published_at"] is None and article["date_method"] == "none"
    article, _ = clean_article(_record(WIRE, published="2025-10-22T02:15:00+09:00"),
                               max_chars=10_000)
    assert article["published_at"] == datetime(2025, 10, 21, 17, 15)
    assert article["date_method"] == "metadata"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-21", datetime(2025, 10, 21)),
        ("2025-10-20T08:30:00Z", datetime(2025, 10, 20, 8, 30)),
        ("Tue, 21 Oct 2025 10:00:00 +0200", datetime(2025, 10, 21, 8, 0)),
        ("last Tuesday", None),
        ("", None),
    ],
)
def test_parse_published(value, expected):
    assert parse_published(value) == expected


def test_empty_and_oversized_articles_are_rejects():
    _, bad = clean_article(_record("   \n\u200b\nBy Ann Lee\n"), max_chars=1000)
    assert bad["reason"] == "empty"
    _, bad = clean_article(_record("word " * 400), max_chars=1000)
    assert bad["reason"] == "too_long" and "1,000" in bad["detail"]


def test_article_id_depends_on_content_not_on_layout():
    assert article_id("A  b\nc") == article_id("A b c") != article_id("A b d")


def test_exact_duplicates_in_one_run_are_kept_once():
    records = [_record(WIRE), {**_record(WIRE.replace("\n\n", "\n")), "external_id": "y.txt"},
               _record("Other story.")]
    articles, rejects, duplicates = clean_records(records, max_chars=10_000)
    assert [a["external_id"] for a in articles] == ["x.txt", "x.txt"]
    assert duplicates == 1 and rejects == []


def test_reject_ids_are_stable_across_runs():
    bad = [{"input_path": "a.txt", "external_id": None, "reason": "binary", "detail": "d"}]
    assert reject_rows(bad, "run1")[0]["reject_id"] == reject_rows(bad, "run2")[0]["reject_id"]


def test_datelines_and_wire_markers_become_wire_attribution():
    text = ("WASHINGTON (AP) — The Senate voted on Tuesday to approve the package.\n"
            "Leaders promised a vote before the end of the month.\n"
            "(Reporting by Jane Doe; Editing by John Roe)\n"
            "Copyright 2025 The Associated Press. All rights reserved.")
    article, _ = clean_article(_record(text), max_chars=10_000)
    assert article["text"].startswith("The Senate voted")
    assert "Reporting" not in article["text"] and "Copyright" not in article["text"]
    assert article["wire_attribution"].startswith("WASHINGTON (AP); (Reporting by Jane Doe")


@pytest.mark.parametrize(
    ("paragraph", "dateline", "rest"),
    [
        ("LONDON, Oct 24 (Reuters) - Britain said on Friday.", "LONDON, Oct 24 (Reuters)",
         "Britain said on Friday."),
        ("PARIS (AFP) -- France said.", "PARIS (AFP)", "France said."),
        ("BEIRUT — Lebanon said.", "BEIRUT", "Lebanon said."),
        ("NATO - the alliance - said.", None, "NATO - the alliance - said."),
        ("US: the best", None, "US: the best"),
    ],
)
def test_take_wire_attribution(paragraph, dateline, rest):
    assert take_wire_attribution([paragraph]) == ([rest], dateline)


def test_hard_wrapped_wire_copy_is_rejoined_into_paragraphs():
    text = ("The Senate voted on Tuesday to approve a sweeping package of\n"
            "measures that would expand the government's power to monitor\n"
            "suspected terrorists, officials said.\n"
            "The bill now goes to the House, where leaders have promised a\n"
            "vote before the end of the month.\n"
            "Critics said the bill went too far.")
    assert split_paragraphs(text) == [
        "The Senate voted on Tuesday to approve a sweeping package of measures that would expand "
        "the government's power to monitor suspected terrorists, officials said.",
        "The bill now goes to the House, where leaders have promised a vote before the end of the "
        "month.",
        "Critics said the bill went too far."]


def test_one_paragraph_a_line_copy_is_left_alone_but_broken_sentences_join():
    assert split_paragraphs("Kim spoke.\nPutin listened.\nHe said the talks\nwould go on.") == [
        "Kim spoke.", "Putin listened.", "He said the talks would go on."]


def test_boilerplate_lines_are_removed():
    assert strip_boilerplate(["Advertisement", "Kim spoke.", "Read more: the summit",
                              "Sign up for our daily newsletter", "SUBSCRIBE"]) == ["Kim spoke."]


def test_outlet_names_are_kept_out_of_authors():
    assert clean_authors(["By Jane Doe", "Associated Press", "Reuters Staff", "Harbor Wire",
                          "jane doe"], source="Harbor Wire") == ["Jane Doe"]


def test_language_is_detected_with_a_confidence():
    language, score, evidence = detect_language("Der Bundestag hat am Donnerstag ein neues Gesetz "
                                                "zur Energieversorgung beschlossen.")
    assert (language, evidence) == ("de", "detected") and 0.5 < score <= 1
    article, _ = clean_article(_record(WIRE), max_chars=10_000)
    assert (article["language"], article["language_evidence"]) == ("en", "detected")


# Short English items made of names and numbers: the detector alone calls such text Pidgin,
# Dutch or Javanese; their few lowercase words are English.
RESULTS = """SOCCER - DUTCH LEAGUE RESULTS .
AMSTERDAM 2026-05-03
Results of Dutch league matches on Sunday :
Ajax Amsterdam 2 ( Kluivert 12 , Overmars 55 ) PSV Eindhoven 1 ( Ronaldo 70 )
Feyenoord Rotterdam 0 Twente Enschede 0
Utrecht 3 Vitesse Arnhem 1"""
BRIEF = "Ajax 2 PSV 1\nFeyenoord 0 Twente 0\nUtrecht 3 Vitesse 1"


@pytest.mark.parametrize("text", [RESULTS, BRIEF])
def test_english_made_of_names_and_numbers_is_never_certainly_another_language(text):
    from tasks.clean import goes_to_ner

    language, _, evidence = detect_language(text)
    assert language != "en" and evidence == "uncertain"  # the detector's answer, not trusted
    assert goes_to_ner({"language": language, "language_evidence": evidence}, "en")


def test_other_language_prose_is_kept_from_an_english_model_and_sent_to_its_own():
    from tasks.clean import goes_to_ner

    text = ("Líder na pesquisa de intenção de voto, o candidato disse nesta segunda-feira que "
            "vai apresentar o seu programa de governo aos eleitores na próxima semana.")
    language, _, evidence = detect_language(text)
    assert (language, evidence) == ("pt", "detected")
    assert not goes_to_ner({"language": language, "language_evidence": evidence}, "en")
    assert goes_to_ner({"language": language, "language_evidence": evidence}, "pt")


def test_a_declared_language_counts_unless_the_prose_clearly_says_otherwise():
    german = "Die Regierung hat am Mittwoch in Berlin einen neuen Haushalt vorgestellt und beschlossen."
    assert detect_language("Ajax 2 PSV 1", declared="nl-NL")[::2] == ("nl", "declared")
    assert detect_language(german, declared="de")[::2] == ("de", "declared")
    assert detect_language(german, declared="en-GB")[::2] == ("de", "detected")
    assert detect_language("The minister said on Monday that the budget would pass.",
                           declared="en-us")[::2] == ("en", "detected")
    article, _ = clean_article({**_record("Ajax 2 PSV 1\nFeyenoord 0 Twente 0"), "language": "nl"},
                               max_chars=10_000)
    assert (article["language"], article["language_evidence"]) == ("nl", "declared")


def test_the_language_identifier_keeps_an_unpacked_copy_that_classifies_as_the_package_does(
        tmp_path, monkeypatch):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from tasks import clean

    texts = ["Der Bundestag hat heute beschlossen, dass die Steuern steigen.",
             "The government said on Monday that talks would resume.",
             "O governo disse nesta segunda-feira que as negociações continuam."]
    packaged = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    monkeypatch.setenv("NEWSNER_GAZETTEER_DIR", str(tmp_path / "share"))
    clean._identifier.cache_clear()
    try:
        first = clean._identifier()  # unpacks the model, keeps the copy
        copy = clean._identifier_cache()
        assert copy.parent == tmp_path / "share" and copy.stat().st_size > 10_000_000
        clean._identifier.cache_clear()
        again = clean._identifier()  # loads the copy
        assert [again.classify(t) for t in texts] == [packaged.classify(t) for t in texts] == \
            [first.classify(t) for t in texts]
        assert [again.classify(t)[0] for t in texts] == ["de", "en", "pt"]
        # a place it cannot write to (a file where its folder would be): the packaged model,
        # unpacked each time
        blocked = tmp_path / "blocked"
        blocked.write_text("")
        monkeypatch.setenv("NEWSNER_GAZETTEER_DIR", str(blocked / "share"))
        clean._identifier.cache_clear()
        assert [clean._identifier().classify(t) for t in texts] == \
            [packaged.classify(t) for t in texts]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "share"]
    finally:
        clean._identifier.cache_clear()
