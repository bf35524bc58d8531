import pytest

from tasks.errors import UserFileError
from tasks.resolve import resolve_keys
from tasks.userfiles import Alias, read_alias_file, read_pattern_file
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


def test_dotted_undotted_and_long_forms_of_a_country_meet():
    keys = ["place:us", "org:us", "place:usa", "place:united states", "place:america"]
    rows = resolve_keys(keys, [], caps_keys=["place:us", "org:us", "place:usa"],
                        counts={"place:us": 1139, "org:us": 40, "place:usa": 3,
                                "place:united states": 185, "place:america": 9})
    assert set(_entities(rows).values()) == {"place:united states"}
    rules = {r["key"]: r["rule"] for r in rows}
    # "US" as ORG goes by its label to the place "US", a code: the code is why it joins
    assert rules["place:us"] == rules["org:us"] == "acronym"
    assert rules["place:america"] == "gazetteer" and rules["place:united states"] == "self"


def test_a_country_code_is_a_country_only_when_written_in_capitals_as_a_place():
    rows = _entities(resolve_keys(["place:us", "org:it", "place:it"], [], caps_keys=["org:it"],
                                  counts={"org:it": 50, "place:it": 1}))
    assert rows["place:us"] == "place:us"  # "us" in lower case is no country
    assert rows["org:it"] == "org:it" and rows["place:it"] == "org:it"  # IT the industry


def test_demonyms_and_their_plurals_join_their_country():
    rows = resolve_keys(["norp:american", "norp:americans", "norp:iraqis", "place:iraq",
                         "norp:british", "place:britain", "place:uk", "norp:chinese"], [],
                        caps_keys=["place:uk"])
    entities = _entities(rows)
    assert entities["norp:american"] == entities["norp:americans"] == "place:united states"
    assert entities["norp:iraqis"] == "place:iraq"
    assert entities["norp:british"] == entities["place:britain"] == entities["place:uk"] == (
        "place:united kingdom")
    assert entities["norp:chinese"] == "place:china"  # not Macau, whose demonym it also is
    assert {r["key"]: r["rule"] for r in rows}["norp:americans"] == "demonym"


def test_one_name_under_two_labels_is_one_entity_of_the_majority_kind():
    rows = resolve_keys(["org:labour", "person:labour", "place:liverpool", "org:liverpool"], [],
                        counts={"org:labour": 402, "person:labour": 85,
                                "place:liverpool": 70, "org:liverpool": 71})
    entities = _entities(rows)
    assert entities["person:labour"] == entities["org:labour"] == "org:labour"
    assert entities["place:liverpool"] == entities["org:liverpool"] == "org:liverpool"


def test_singular_and_plural_group_names_meet():
    rows = resolve_keys(["norp:tory", "norp:tories", "norp:democrat", "norp:democrats",
                         "place:tories"], [],
                        counts={"norp:tory": 222, "norp:tories": 203, "norp:democrats": 9,
                                "norp:democrat": 3})
    entities = _entities(rows)
    assert entities["norp:tories"] == entities["norp:tory"] == "norp:tory"
    assert entities["norp:democrat"] == entities["norp:democrats"] == "norp:democrats"
    assert {r["key"]: r["rule"] for r in rows}["norp:tories"] == "plural"


def test_an_acronym_takes_the_long_name_with_dominant_support_not_a_one_off_definition():
    keys = ["org:eu", "place:europe union", "org:european union", "org:european unión"]
    rows = resolve_keys(keys, [("eu", "place:europe union")], caps_keys=["org:eu"],
                        counts={"org:eu": 240, "place:europe union": 1, "org:european union": 52})
    assert _entities(rows)["org:eu"] == "org:european union"
    # two long names with similar support: the acronym stays apart
    rows = resolve_keys(["org:aa", "org:american airlines", "org:alcoholics anonymous"], [],
                        caps_keys=["org:aa"], counts={"org:american airlines": 10,
                                                      "org:alcoholics anonymous": 8})
    assert _entities(rows)["org:aa"] == "org:aa"


def test_a_surname_takes_the_full_name_that_dominates_the_corpus():
    counts = {"person:clinton": 6, "person:bill clinton": 76, "person:hillary rodham clinton": 4,
              "person:chelsea clinton": 1}
    assert _entities(resolve_keys(counts, [], counts=counts))["person:clinton"] == (
        "person:bill clinton")
    counts["person:hillary rodham clinton"] = 60
    assert _entities(resolve_keys(counts, [], counts=counts))["person:clinton"] == "person:clinton"


def test_a_describing_word_before_a_name_is_not_part_of_the_person():
    counts = {"person:sprinter kelly holmes": 12, "person:kelly holmes": 30,
              "person:briton tim henman": 8, "person:tim henman": 8,
              "person:george w bush": 40, "person:w bush": 1}
    rows = {r["key"]: r for r in resolve_keys(counts, [], counts=counts)}
    assert rows["person:sprinter kelly holmes"]["entity_id"] == "person:kelly holmes"
    assert rows["person:briton tim henman"]["rule"] == "descriptor"
    assert rows["person:george w bush"]["entity_id"] == "person:george w bush"
