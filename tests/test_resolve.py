import pytest

from tasks.resolve import (
    Alias,
    UserFileError,
    read_alias_file,
    read_pattern_file,
    resolve_keys,
)
from tests.conftest import ROOT


def _entities(rows):
    return {r["key"]: r["entity_id"] for r in rows}


def test_a_short_person_name_fitting_one_full_name_merges_across_the_corpus():
    rows = resolve_keys(["person:zelensky", "person:volodymyr zelensky", "place:ukraine"], [])
    assert _entities(rows) == {"person:zelensky": "person:volodymyr zelensky",
                               "person:volodymyr zelensky": "person:volodymyr zelensky",
                               "place:ukraine": "place:ukraine"}
    assert {r["key"]: r["rule"] for r in rows}["person:zelensky"] == "short_form"


def test_an_ambiguous_short_name_stays_apart():
    rows = resolve_keys(["person:lee", "person:lee jae myung", "person:hana lee"], [])
    assert _entities(rows)["person:lee"] == "person:lee"


def test_short_forms_only_merge_people():
    rows = resolve_keys(["place:korea", "place:north korea"], [])
    assert _entities(rows)["place:korea"] == "place:korea"


def test_an_acronym_defined_in_the_corpus_becomes_an_alias_in_any_label():
    rows = resolve_keys(["org:kcna", "norp:kcna", "org:korean central news agency"],
                        [("kcna", "org:korean central news agency")])
    assert _entities(rows)["org:kcna"] == _entities(rows)["norp:kcna"] == (
        "org:korean central news agency")


def test_an_acronym_with_two_long_names_stays_apart():
    rows = resolve_keys(["org:aa", "org:american airlines", "org:alcoholics anonymous"],
                        [("aa", "org:american airlines"), ("aa", "org:alcoholics anonymous")])
    assert _entities(rows)["org:aa"] == "org:aa"


def test_the_alias_file_wins_and_names_the_entity():
    aliases = [Alias("North Korea", "GPE", ("DPRK",)),
               Alias("Volodymyr Zelensky", "PERSON", ("Zelenskyy", "Volodymyr Zelenskyy"))]
    rows = resolve_keys(["norp:dprk", "place:north korea", "person:zelenskyy",
                         "person:zelensky", "person:volodymyr zelenskyy", "person:volodymyr"],
                        [], aliases)
    by_key = {r["key"]: r for r in rows}
    assert by_key["norp:dprk"]["entity_id"] == "place:north korea"
    assert by_key["norp:dprk"]["canonical_name"] == "North Korea"
    assert by_key["norp:dprk"]["canonical_label"] == "GPE"
    assert by_key["person:zelenskyy"]["entity_id"] == "person:volodymyr zelensky"
    # a short form whose full name is an alias lands on the canonical entity
    assert by_key["person:volodymyr"]["entity_id"] == "person:volodymyr zelensky"
    # a spelling the alias file does not list stays apart
    assert by_key["person:zelensky"]["entity_id"] == "person:zelensky"


def test_the_example_alias_and_pattern_files_are_valid():
    assert {a.name for a in read_alias_file(ROOT / "examples" / "aliases.csv")} >= {"North Korea"}
    assert read_pattern_file(ROOT / "examples" / "patterns.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,label\nX,ORG\n", "line 1: the header must be name,label,aliases"),
        ("name,label,aliases\nNorth Korea,COUNTRY,DPRK\n", "line 2: label 'COUNTRY'"),
        ("name,label,aliases\nA,ORG,X\n,ORG,Y\n", "line 3: empty name"),
        ("name,label,aliases\nA,ORG,X\nB,ORG,x\n", "line 3: 'x' already names 'A'"),
    ],
)
def test_a_wrong_alias_file_names_the_line(tmp_path, content, message):
    path = tmp_path / "aliases.csv"
    path.write_text(content)
    with pytest.raises(UserFileError, match=message):
        read_alias_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"label": "ORG", "pattern": "KCNA"}\n{oops\n', "line 2: not JSON"),
        ('{"label": "ORG"}\n', "line 1: expected"),
    ],
)
def test_a_wrong_pattern_file_names_the_line(tmp_path, content, message):
    path = tmp_path / "patterns.jsonl"
    path.write_text(content)
    with pytest.raises(UserFileError, match=message):
        read_pattern_file(path)
