"""Places: the gazetteer, resolution in context, the place stage, its tables and views."""

from __future__ import annotations

import re
from datetime import date, datetime

import duckdb
import pytest

from tasks.canonical import entity_key
from tasks.gazetteer import place_form, place_index
from tasks.geocode import article_rows, focus, locate, placeable
from tasks.places import locate_places
from tasks.warehouse import Warehouse, commit_run, query, to_arrow

# GeoNames ids the checks expect (https://www.geonames.org/<id>)
PARIS_FR, PARIS_TX, TEXAS = 2988507, 4717560, 4736286
GEORGIA_US, GEORGIA_GE, ATLANTA, TBILISI = 4197000, 614540, 4180439, 611717
KURSK_OBLAST, KURSK_CITY, RUSSIA, NORTH_KOREA = 538555, 538560, 2017370, 1873107
QUEBEC_PROVINCE, SEOUL, WASHINGTON_DC, ALBERTA, FARS = 6115047, 1835848, 4140963, 5883102, 134766


def mentions_in(text: str, *names: tuple[str, str]) -> list[dict]:
    """The mentions of (surface, label) pairs, each at every place the text writes it."""
    out = []
    for surface, label in names:
        for found in re.finditer(re.escape(surface), text):
            out.append({"article_id": "a", "model": "m", "text": surface, "label": label,
                        "key": entity_key(surface, label), "start_char": found.start(),
                        "end_char": found.end()})
    return out


def placed(text: str, *names: tuple[str, str]) -> dict[str, int | None]:
    chosen = locate(place_index(), text, mentions_in(text, *names))
    return {m["text"]: (chosen[m["key"]].place.geonameid if chosen[m["key"]].place else None)
            for m in mentions_in(text, *names)}


def test_the_index_knows_regions_of_every_country_and_the_forms_news_uses():
    index = place_index()
    assert place_index() is index  # read once per process
    assert {p.geonameid for p, _ in index.lookup("alberta")} == {ALBERTA}  # from the admin1 file
    assert (index.region["CA.01"].name, index.country["KP"].geonameid) == ("Alberta", NORTH_KOREA)
    assert any(p.geonameid == 6254925 for p, _ in index.lookup(place_form("Ky.")))  # Kentucky
    assert place_form("Québec") == place_form("Quebec") == "quebec"


def test_a_place_name_goes_to_the_place_its_context_says():
    assert placed("A rodeo in Paris, Texas drew crowds.", ("Paris", "GPE"), ("Texas", "GPE")) == \
        {"Paris": PARIS_TX, "Texas": TEXAS}
    assert placed("Ministers met in Paris on Monday.", ("Paris", "GPE")) == {"Paris": PARIS_FR}
    assert placed("Georgia voters lined up in Atlanta.", ("Georgia", "GPE"), ("Atlanta", "GPE")) \
        == {"Georgia": GEORGIA_US, "Atlanta": ATLANTA}
    assert placed("Georgia said Tbilisi would not yield.", ("Georgia", "GPE"),
                  ("Tbilisi", "GPE")) == {"Georgia": GEORGIA_GE, "Tbilisi": TBILISI}


def test_regions_and_cities_of_one_name_are_told_apart():
    assert placed("Troops moved into the Kursk region.", ("Kursk", "GPE")) == {"Kursk": KURSK_OBLAST}
    assert placed("A train left Kursk at dawn.", ("Kursk", "GPE")) == {"Kursk": KURSK_CITY}
    assert placed("Voters in Quebec went to the polls.", ("Quebec", "GPE")) == \
        {"Quebec": QUEBEC_PROVINCE}  # a region far more populous than its namesake city
    assert placed("Talks in Seoul ended.", ("Seoul", "GPE")) == {"Seoul": SEOUL}  # not the region
    assert placed("Officials in Washington said no.", ("Washington", "GPE")) == \
        {"Washington": WASHINGTON_DC}  # the capital, not the state
    assert placed("Floods hit Fars Province.", ("Fars Province", "GPE")) == {"Fars Province": FARS}


def test_demonyms_count_for_their_country_and_unknown_names_for_the_articles_country():
    text = "Russian officials met officials of Metcalfe County, Kentucky in Louisville."
    chosen = locate(place_index(), text, mentions_in(
        text, ("Russian", "NORP"), ("Metcalfe County", "GPE"), ("Kentucky", "GPE"),
        ("Louisville", "GPE")))
    assert chosen["norp:russian"].place.geonameid == RUSSIA
    assert chosen["norp:russian"].rule == "demonym"
    county = chosen["place:metcalfe county"]  # no county is in the gazetteer
    assert (county.place, county.country, county.rule) == (None, "US", "focus")
    assert chosen["place:kentucky"].place.feature_code == "ADM1"


def test_a_mislabelled_place_counts_only_where_the_text_calls_it_one():
    text = "Fighting in the Kursk region went on. Kyiv says more help is needed."
    kursk, kyiv = mentions_in(text, ("Kursk", "PRODUCT"), ("Kyiv", "ORG"))
    assert placeable(text, kursk) and not placeable(text, kyiv)
    rows = article_rows(place_index(), [{"article_id": "a", "text": text}], [kursk, kyiv])
    assert [(r["key"], r["geonameid"]) for r in rows["mention_places"]] == \
        [("product:kursk", KURSK_OBLAST)]


def test_the_focus_is_the_country_most_places_lie_in_and_its_most_named_place():
    text = "Kim left Pyongyang for Moscow. In Moscow, Russia welcomed him. Pyongyang waited."
    names = [("Pyongyang", "GPE"), ("Moscow", "GPE"), ("Russia", "GPE")]
    chosen = locate(place_index(), text, mentions_in(text, *names))
    counts = {"place:pyongyang": 2, "place:moscow": 2, "place:russia": 1}
    assert focus(chosen, counts) == ("RU", 524901)  # Russia 3 mentions, North Korea 2
    assert focus({}, {}) == (None, None)


# --- the stage, its tables and views, on a small corpus checked by hand ---------------------------

DAY1, DAY2 = datetime(2025, 10, 1, 9), datetime(2025, 10, 2, 9)
CORPUS = [  # (article, day, source, text, mentions)
    ("p1", DAY1, "Wire", "Kim visited Pyongyang and Moscow. North Korean troops are in the Kursk "
     "region of Russia.", [("Pyongyang", "GPE"), ("Moscow", "GPE"), ("North Korean", "NORP"),
                           ("Kursk", "PRODUCT"), ("Russia", "GPE")]),
    ("p2", DAY1, "Ledger", "Paris, Texas held a rodeo. Paris is small.",
     [("Paris", "GPE"), ("Texas", "GPE")]),
    ("p3", DAY2, "Wire", "Ministers met in Paris. France and Russia disagreed.",
     [("Paris", "GPE"), ("France", "GPE"), ("Russia", "GPE")]),
    ("p4", DAY2, "Ledger", "Officials of Metcalfe County, Kentucky blamed Russian hackers.",
     [("Metcalfe County", "GPE"), ("Kentucky", "GPE"), ("Russian", "NORP")]),
]


def stage_corpus(w: Warehouse, run_id: str, corpus) -> None:
    staging = w.staging(run_id)
    articles, mentions = [], []
    for article_id, day, source, text, names in corpus:
        articles.append({"article_id": article_id, "external_id": article_id, "source": source,
                         "authors": [], "published_at": day, "date_method": "metadata",
                         "text": text, "word_count": len(text.split()), "input_path": "t",
                         "extraction_method": "wire", "story_id": article_id, "run_id": run_id})
        for m in mentions_in(text, *names):
            mentions.append({**m, "article_id": article_id, "sentence_index": 0,
                             "entity_id": m["key"], "name": m["text"], "model_version": "1",
                             "run_id": run_id})
    staging.write("articles", to_arrow("articles", articles))
    staging.write("ner_input", to_arrow("articles", articles).select(["article_id", "text"]))
    staging.write("mentions", to_arrow("mentions", mentions))
    counts = locate_places.fn(w, staging)
    assert counts["n_focused"] == len(corpus) + counts.get("n_backfilled", 0)
    commit_run(w, staging, {"run_id": run_id, "started_at": DAY1, "finished_at": DAY1,
                            "inputs": [], "model": "m", "model_version": "1",
                            "n_inputs": len(corpus), "n_duplicates": 0,
                            "n_new_articles": len(corpus), "n_other_language": 0,
                            "n_mentions": len(mentions), "n_rejects": 0, "stage_seconds": "{}"})


@pytest.fixture(scope="module")
def placed_warehouse(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("places"))
    stage_corpus(w, "r1", CORPUS)
    return w


def test_every_place_name_of_an_article_gets_one_row_with_its_rule(placed_warehouse):
    _, rows = query(placed_warehouse, "SELECT article_id, key, geonameid, country_code, rule, "
                                      "n_mentions FROM mention_places ORDER BY ALL")
    assert rows == [
        ("p1", "norp:north korean", NORTH_KOREA, "KP", "demonym", 1),
        ("p1", "place:moscow", 524901, "RU", "context", 1),
        ("p1", "place:pyongyang", 1871859, "KP", "context", 1),
        ("p1", "place:russia", RUSSIA, "RU", "prior", 1),
        ("p1", "product:kursk", KURSK_OBLAST, "RU", "qualifier", 1),  # "the Kursk region"
        ("p2", "place:paris", PARIS_TX, "US", "qualifier", 2),
        ("p2", "place:texas", TEXAS, "US", "context", 1),  # its town Paris is named
        ("p3", "place:france", 3017382, "FR", "prior", 1),
        ("p3", "place:paris", PARIS_FR, "FR", "context", 1),
        ("p3", "place:russia", RUSSIA, "RU", "prior", 1),
        ("p4", "norp:russian", RUSSIA, "RU", "demonym", 1),
        ("p4", "place:kentucky", 6254925, "US", "prior", 1),
        ("p4", "place:metcalfe county", None, "US", "focus", 1),
    ]
    _, places = query(placed_warehouse, "SELECT geonameid, name, feature_code, country_code, region "
                                        "FROM places WHERE geonameid IN (?, ?, ?) ORDER BY 1",
                      [PARIS_TX, KURSK_OBLAST, 3017382])
    assert places == [(KURSK_OBLAST, "Kursk", "ADM1", "RU", "Kursk"),
                      (3017382, "France", "PCLI", "FR", None),
                      (PARIS_TX, "Paris", "PPL", "US", "Texas")]


def test_article_places_names_each_articles_focus(placed_warehouse):
    _, rows = query(placed_warehouse, "SELECT DISTINCT article_id, focus_country, focus_place "
                                      "FROM article_places ORDER BY 1")
    assert rows == [("p1", "RU", "Moscow"), ("p2", "US", "Paris"), ("p3", "FR", "Paris"),
                    ("p4", "US", "Kentucky")]


def test_place_daily_counts_places_per_day_and_source_and_demonyms_for_their_country(
        placed_warehouse):
    _, rows = query(placed_warehouse, "SELECT day, source, place_name, n_mentions, n_articles "
                                      "FROM place_daily WHERE country_code = 'RU' ORDER BY ALL")
    assert rows == [(date(2025, 10, 1), "Wire", "Kursk", 1, 1),
                    (date(2025, 10, 1), "Wire", "Moscow", 1, 1),
                    (date(2025, 10, 1), "Wire", "Russia", 1, 1),
                    (date(2025, 10, 2), "Ledger", "Russia", 1, 1),  # "Russian" (NORP)
                    (date(2025, 10, 2), "Wire", "Russia", 1, 1)]
    _, unplaced = query(placed_warehouse, "SELECT n_mentions FROM place_daily WHERE geonameid IS "
                                          "NULL AND country_code = 'US'")
    assert unplaced == [(1,)]  # Metcalfe County counts for its country only


def test_country_timeline_counts_mentions_articles_and_focused_articles(placed_warehouse):
    _, rows = query(placed_warehouse, "SELECT day, country_code, country, n_mentions, n_articles, "
                                      "n_focus_articles FROM country_timeline ORDER BY ALL")
    assert rows == [(date(2025, 10, 1), "KP", "North Korea", 2, 1, 0),
                    (date(2025, 10, 1), "RU", "Russia", 3, 1, 1),
                    (date(2025, 10, 1), "US", "United States", 3, 1, 1),
                    (date(2025, 10, 2), "FR", "France", 2, 1, 1),
                    (date(2025, 10, 2), "RU", "Russia", 2, 2, 0),
                    (date(2025, 10, 2), "US", "United States", 2, 1, 1)]


def test_an_older_warehouse_gains_the_places_of_its_stored_articles_once(tmp_path):
    from tests.test_migrations import v1_warehouse

    w = v1_warehouse(tmp_path / "w")  # schema 001: 'Kim spoke in Seoul.', Seoul a GPE mention
    from tasks.warehouse import migrate, pending

    migrate(w)
    assert pending(w, "places_pending")
    stage_corpus(w, "r2", [CORPUS[1]])  # a run with one new article fills the stored one too
    _, rows = query(w, "SELECT article_id, key, geonameid FROM mention_places ORDER BY ALL")
    assert rows == [("a1", "place:seoul", SEOUL), ("p2", "place:paris", PARIS_TX),
                    ("p2", "place:texas", TEXAS)]
    assert not pending(w, "places_pending")
    with duckdb.connect(str(w.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'places_pending'").fetchone() == (0,)
