import pytest

from tasks.canonical import assign_entities, display_name, entity_key, strip_titles


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("North Korea’s", "GPE", "North Korea"),
        ("North Korea's", "GPE", "North Korea"),
        ("Kim Jong-un’s", "PERSON", "Kim Jong-un"),
        ("the Pentagon", "ORG", "Pentagon"),
        ("The Kremlin", "ORG", "Kremlin"),
        ("President Vladimir Putin", "PERSON", "Vladimir Putin"),
        ("Mr. Putin", "PERSON", "Putin"),
        ("Secretary of State Antony Blinken", "PERSON", "Antony Blinken"),
        ("“Pyongyang”", "GPE", "Pyongyang"),
        ("Kim  Jong\u2011un", "PERSON", "Kim Jong-un"),
        ("Theresa May", "PERSON", "Theresa May"),
    ],
)
def test_display_name_strips_possessives_titles_and_articles(text, label, expected):
    assert display_name(text, label) == expected


def test_a_lone_title_word_is_kept_as_the_name():
    assert strip_titles("President") == "President"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kim Jong-un", "Kim Jong Un"),
        ("Kim Jong-un", "KIM JONG-UN"),
        ("U.N.", "UN"),
        ("Kim Jong–un", "Kim Jong-un"),
    ],
)
def test_entity_key_ignores_case_dots_and_dash_variants(a, b):
    assert entity_key(display_name(a, "PERSON"), "PERSON") == entity_key(
        display_name(b, "PERSON"), "PERSON")


def test_entity_key_groups_place_labels_but_not_people_and_places():
    assert entity_key("Ukraine", "GPE") == entity_key("Ukraine", "LOC") == "place:ukraine"
    assert entity_key("Jordan", "PERSON") != entity_key("Jordan", "GPE")


def _mentions(*pairs):
    return [{"text": text, "label": label} for text, label in pairs]


def test_surname_after_full_name_joins_the_person():
    out = assign_entities(_mentions(("Kim Jong-un", "PERSON"), ("Russia", "GPE"), ("Kim", "PERSON"),
                                    ("Kim’s", "PERSON")))
    assert [m["entity_id"] for m in out] == [
        "person:kim jong un", "place:russia", "person:kim jong un", "person:kim jong un"]
    assert {m["name"] for m in out if m["label"] == "PERSON"} == {"Kim Jong-un"}


def test_surname_before_full_name_also_joins_it():
    out = assign_entities(_mentions(("Putin", "PERSON"), ("Vladimir Putin", "PERSON")))
    assert {m["entity_id"] for m in out} == {"person:vladimir putin"}


def test_partial_name_fitting_two_people_takes_the_nearest_before():
    out = assign_entities(_mentions(("Kim Jong-un", "PERSON"), ("Kim Yo-jong", "PERSON"),
                                    ("Kim", "PERSON"), ("Kim Jong-un", "PERSON"), ("Kim", "PERSON")))
    assert [m["entity_id"] for m in out][2] == "person:kim yo jong"
    assert [m["entity_id"] for m in out][4] == "person:kim jong un"


def test_surname_without_a_full_name_stays_itself():
    out = assign_entities(_mentions(("Zelensky", "PERSON"),))
    assert out[0]["entity_id"] == "person:zelensky"


def test_a_surname_the_model_mislabels_joins_the_person_named_in_full():
    out = assign_entities(_mentions(("Olaf Scholz", "PERSON"), ("Scholz", "GPE"),
                                    ("Viktor Orban", "PERSON"), ("Orban", "ORG")))
    assert [m["entity_id"] for m in out] == ["person:olaf scholz", "person:olaf scholz",
                                             "person:viktor orban", "person:viktor orban"]


def test_other_labels_join_a_person_only_by_the_surname():
    out = assign_entities(_mentions(("Kim Jong-un", "PERSON"), ("Kim", "ORG"),
                                    ("Ukraine", "GPE")))
    assert [m["entity_id"] for m in out] == ["person:kim jong un", "org:kim", "place:ukraine"]


def test_an_acronym_the_article_defines_takes_the_long_name():
    text = "The Korean Central News Agency (KCNA) said so. KCNA added more."
    mentions = [{"text": "Korean Central News Agency", "label": "ORG", "start_char": 4,
                 "end_char": 30},
                {"text": "KCNA", "label": "ORG", "start_char": 47, "end_char": 51}]
    out = assign_entities(mentions, text)
    assert {m["key"] for m in out} == {"org:korean central news agency"}


def test_legal_forms_do_not_split_companies():
    assert entity_key(display_name("Microsoft Corp.", "ORG"), "ORG") == "org:microsoft"
    assert display_name("Apple Inc", "ORG") == "Apple"
