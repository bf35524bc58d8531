"""End to end: the real flow, the real model, a real Prefect server, a real DuckDB file."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.conftest import SEEDS

pytestmark = pytest.mark.slow


def run(paths, warehouse, **settings):
    from flows.pipeline import newsner_run
    from tasks.settings import Settings

    return newsner_run([str(p) for p in paths], Settings(warehouse=warehouse, **settings))


def rows(warehouse, sql, params=None):
    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def mentions_of(warehouse, entity_id):
    return rows(warehouse, "SELECT text, label FROM mentions WHERE entity_id = ? "
                           "ORDER BY article_id, start_char", [entity_id])


@pytest.fixture(scope="module")
def seeded(prefect_server, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("seeded")
    summary = run([SEEDS], warehouse)
    return warehouse, summary


def test_seeds_fill_every_table(seeded):
    warehouse, summary = seeded
    assert summary["n_inputs"] == 11 and summary["n_new_articles"] == 11
    assert summary["n_rejects"] == 0 and summary["n_mentions"] > 100
    for table in ("articles", "mentions", "entities", "entity_daily", "cooccurrence", "runs"):
        assert rows(warehouse, f"SELECT count(*) FROM {table}")[0][0] > 0, table
    sources = {r[0] for r in rows(warehouse, "SELECT DISTINCT source FROM articles")}
    assert {"Harbor Wire", "Northern Ledger", "Daily Meridian"} <= sources
    days = rows(warehouse, "SELECT count(DISTINCT day) FROM entity_daily WHERE day IS NOT NULL")
    assert days[0][0] >= 7


def test_seed_bylines_become_authors_and_never_people(seeded):
    warehouse, _ = seeded
    authors = rows(warehouse, "SELECT authors FROM articles WHERE external_id LIKE ?",
                   ["%2025-10-22-daily-meridian-seoul-missiles.txt"])
    assert authors == [(["Hana Lee", "Tomas Reyes"],)]
    people = {r[0] for r in rows(warehouse, "SELECT text FROM mentions WHERE label = 'PERSON'")}
    assert not people & {"Mina Park", "Tomas Reyes", "Hana Lee", "Clara Jensen"}


def test_seed_names_are_canonicalised(seeded):
    warehouse, _ = seeded
    kim = mentions_of(warehouse, "person:kim jong un")
    assert ("Kim", "PERSON") in kim and ("Kim Jong-un", "PERSON") in kim and len(kim) >= 8
    putin = {t for t, _ in mentions_of(warehouse, "person:vladimir putin")}
    assert putin == {"Putin", "Vladimir Putin"}
    north_korea = {t for t, _ in mentions_of(warehouse, "place:north korea")}
    assert "North Korea's" in north_korea and "North Korea" in north_korea
    offsets = rows(warehouse, "SELECT count(*) FROM mentions JOIN articles USING (article_id) "
                              "WHERE substr(articles.text, start_char + 1, end_char - start_char)"
                              " <> mentions.text")
    assert offsets == [(0,)]


# GeoNames ids of the seeds' places
SEED_PLACES = {"Pyongyang": 1871859, "Moscow": 524901, "Seoul": 1835848, "Kursk": 538555,
               "North Korea": 1873107}
RUSSIA = 2017370


def placed_mentions(warehouse) -> list[tuple]:
    """(mention text, label, geonameid) of every mention the place stage placed."""
    return rows(warehouse, "SELECT m.text, m.label, p.geonameid FROM mentions AS m JOIN "
                           "mention_places AS p USING (article_id, model, key) ORDER BY ALL")


def assert_seed_places(warehouse) -> None:
    placed = placed_mentions(warehouse)
    for name, geonameid in SEED_PLACES.items():  # Kursk only as "the Kursk region" (Kursk Oblast)
        found = {g for text, _, g in placed if text == name}
        assert found == {geonameid}, (name, found)
    russia = rows(warehouse, "SELECT sum(n_mentions) FROM place_daily WHERE geonameid = ?", [RUSSIA])
    demonyms = sum(1 for text, label, g in placed if label == "NORP" and g == RUSSIA)
    named = sum(1 for text, label, g in placed if label != "NORP" and g == RUSSIA)
    assert demonyms > 0 and russia == [(named + demonyms,)]  # "Russian" counts for Russia


def test_seed_places_resolve_to_their_geonames_places(seeded):
    assert_seed_places(seeded[0])
    focus = rows(seeded[0], "SELECT a.title, f.country_code FROM article_focus AS f JOIN articles "
                            "AS a USING (article_id) WHERE a.title LIKE 'Seoul prepares%'")
    assert focus == [("Seoul prepares for regional summit amid missile tests", "KR")]


def test_the_report_map_of_the_seeds_draws_in_headless_chromium(seeded, tmp_path):
    import re

    from tasks.warehouse import Warehouse
    from tests.test_report import CHROMIUM, assert_map_drawn

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (.ci/run installs it)")
    html = assert_map_drawn(Warehouse(seeded[0]), tmp_path)
    shaded = set(re.findall(r'class="country" data-code="(\w\w)"', html))
    assert {"RU", "KP", "KR", "UA"} <= shaded


def test_undated_article_stays_undated(seeded):
    warehouse, _ = seeded
    undated = rows(warehouse, "SELECT date_method, source FROM articles WHERE published_at IS NULL")
    assert undated == [("none", None)]


def test_rerun_adds_nothing_and_a_new_article_adds_only_itself(seeded, tmp_path):
    from tasks.warehouse import table_names

    warehouse = tmp_path / "w"
    shutil.copytree(seeded[0], warehouse)  # the shared warehouse stays as the seeds left it
    tables = table_names()
    assert len(tables) == 22  # places (3), quotes and tone (2) included
    before = {t: rows(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    again = run([SEEDS], warehouse)
    assert again["n_new_articles"] == 0 and again["n_mentions"] == 0 and not again["changed"]
    assert {t: rows(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before

    extra = tmp_path / "extra.txt"
    extra.write_text("Putin met Kim Jong-un in Vladivostok.\nKim praised Putin.\nBy Ann Lee\n")
    added = run([SEEDS, extra], warehouse)
    # the seed files, unchanged since the last run, are not even read
    assert added["n_inputs"] == 1 and added["n_new_articles"] == 1
    assert added["n_unchanged_sources"] == 9
    new_rows = rows(warehouse, "SELECT count(*) FROM mentions WHERE run_id = ?", [added["run_id"]])
    assert new_rows[0][0] == added["n_mentions"] > 0
    assert rows(warehouse, "SELECT count(*) FROM articles")[0][0] == len(before["articles"]) + 1
    assert rows(warehouse, "SELECT count(*) FROM runs")[0][0] == len(before["runs"]) + 1
    # the aggregates, updated only for the entities the new article touched, are still exact
    from tasks.warehouse import Warehouse
    from tests.test_views import assert_aggregates_match_mentions

    assert_aggregates_match_mentions(Warehouse(warehouse))


def test_bad_inputs_become_rejects_while_good_ones_are_processed(prefect_server, tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(SEEDS, inputs)
    (inputs / "broken.txt").write_bytes(b"\x00\x01binary")
    (inputs / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (inputs / "empty.txt").write_text("\n\nBy Ann Lee\n")
    (inputs / "notes.pdf").write_bytes(b"%PDF")
    (inputs / "wire-export.jsonl").open("a").write("{oops\n")
    summary = run([inputs], tmp_path / "w")
    assert summary["n_new_articles"] == 11
    assert summary["rejects_by_reason"] == {"binary": 1, "encoding": 1, "empty": 1,
                                            "unsupported_type": 1, "bad_json": 1}
    stored = rows(tmp_path / "w", "SELECT reason, count(*) FROM rejects GROUP BY ALL ORDER BY 1")
    assert stored == sorted(summary["rejects_by_reason"].items())


def test_the_shared_seed_article(prefect_server, shared, tmp_path):
    warehouse = tmp_path / "w"
    run([shared / "seeds"], warehouse)
    assert rows(warehouse, "SELECT authors FROM articles") == [(["Guy Birchall"],)]
    assert rows(warehouse, "SELECT count(*) FROM mentions WHERE text LIKE '%Birchall%'") == [(0,)]
    kim = mentions_of(warehouse, "person:kim jong un")
    assert len(kim) >= 5 and ("Kim", "PERSON") in kim
    entity = rows(warehouse, "SELECT name, label, n_mentions FROM entities WHERE entity_id = ?",
                  ["person:kim jong un"])
    assert entity[0][:2] == ("Kim Jong-un", "PERSON") and entity[0][2] >= 5
    north_korea = {t for t, _ in mentions_of(warehouse, "place:north korea")}
    assert "North Korea’s" in north_korea
    assert rows(warehouse, "SELECT count(*) FROM entities WHERE name LIKE 'North Korea%' "
                           "AND label = 'GPE'") == [(1,)]
    russia = rows(warehouse, "SELECT n_mentions FROM entities WHERE name = 'Russia'")
    assert russia[0][0] >= 6
    names = {r[0] for r in rows(warehouse, "SELECT name FROM entities")}
    assert {"Vladimir Putin", "Pyongyang", "Moscow", "Seoul", "Ukraine"} <= names


def test_newsner_sql_and_duckdb_give_the_same_rows(seeded):
    import csv
    import io

    from tests.test_cli import newsner

    warehouse, _ = seeded
    sql = "SELECT name, label, n_mentions, n_articles FROM entities ORDER BY n_mentions DESC, name"
    done = newsner("sql", sql, "--csv", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    printed = list(csv.reader(io.StringIO(done.stdout)))
    expected = rows(warehouse, sql)
    assert printed[0] == ["name", "label", "n_mentions", "n_articles"]
    assert printed[1:] == [[str(v) for v in row] for row in expected] and len(expected) > 20
    table = newsner("sql", sql, "--warehouse", str(warehouse))
    assert f"({len(expected)} rows)" in table.stdout and "Kim Jong-un" in table.stdout


def test_newsner_top_filters_by_label(seeded):
    from tests.test_cli import newsner

    warehouse, _ = seeded
    done = newsner("top", "--label", "person", "--limit", "3", "--csv", "--warehouse",
                   str(warehouse))
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[1].startswith("Kim Jong-un,PERSON,")
    assert all(",PERSON," in line for line in lines[1:])


def test_alias_file_rerun_reresolves_without_ner_and_merges_stay_traceable(
        prefect_server, shared, tmp_path):
    from flows.pipeline import newsner_run
    from tasks.settings import Settings
    from tests.conftest import ROOT

    warehouse = tmp_path / "w"
    run([shared / "seeds"], warehouse)
    assert rows(warehouse, "SELECT entity_id FROM mentions WHERE text = 'DPRK'") == [("norp:dprk",)]
    before = rows(warehouse, "SELECT * EXCLUDE (entity_id) FROM mentions ORDER BY ALL")

    summary = newsner_run([str(shared / "seeds")], Settings(
        warehouse=warehouse, aliases=ROOT / "examples" / "aliases.csv"))
    assert summary["n_new_articles"] == 0 and summary["n_mentions"] == 0 and summary["changed"]
    assert rows(warehouse, "SELECT * EXCLUDE (entity_id) FROM mentions ORDER BY ALL") == before
    north_korea = rows(warehouse, "SELECT name, label, n_mentions FROM entities "
                                  "WHERE entity_id = 'place:north korea'")
    # North Korea, North Korea’s, DPRK and three times the demonym "North Korean"
    assert north_korea == [("North Korea", "GPE", 6)]
    surfaces = rows(warehouse, "SELECT surface, label, n_mentions FROM entity_aliases "
                               "WHERE entity_id = 'place:north korea' ORDER BY surface")
    assert surfaces == [("DPRK", "NORP", 1), ("North Korea", "GPE", 1), ("North Korean", "NORP", 3),
                        ("North Korea’s", "GPE", 1)]
    rule = rows(warehouse, "SELECT rule FROM entity_keys WHERE key = 'norp:dprk'")
    assert rule == [("alias_file",)]
    # every count is still traceable to its mentions' offsets
    traced = rows(warehouse, "SELECT count(*) FROM mentions JOIN articles USING (article_id) "
                             "WHERE entity_id = 'place:north korea' AND "
                             "substr(articles.text, start_char + 1, end_char - start_char) = mentions.text")
    assert traced == [(6,)]
    from tasks.warehouse import Warehouse
    from tests.test_views import assert_aggregates_match_mentions

    assert_aggregates_match_mentions(Warehouse(warehouse))  # after a merge, too


def test_the_seed_article_names_its_people_and_places_canonically(prefect_server, shared, tmp_path):
    warehouse = tmp_path / "w"
    run([shared / "seeds"], warehouse)
    putin = rows(warehouse, "SELECT name, label FROM entities WHERE entity_id = ?",
                 ["person:vladimir putin"])
    assert putin == [("Vladimir Putin", "PERSON")]
    kim = rows(warehouse, "SELECT DISTINCT text FROM mentions WHERE entity_id = ? ORDER BY 1",
               ["person:kim jong un"])
    assert kim == [("Kim",), ("Kim Jong-un",)]
    assert rows(warehouse, "SELECT name FROM entities WHERE entity_id = 'org:pentagon'") == [
        ("Pentagon",)]
    kcna = rows(warehouse, "SELECT acronym, key FROM acronyms")
    assert kcna == [("kcna", "org:korean central news agency")]


@pytest.mark.parametrize("name", ["top_people_latest_month", "top_by_source_week",
                                  "who_rose_latest_day", "who_appears_with_kim",
                                  "sentences_about_putin", "countries_rising_this_week",
                                  "focused_on_russia_naming_pyongyang"])
def test_example_queries_give_the_same_rows_via_cli_and_duckdb(seeded, name):
    import csv
    import io

    from tests.conftest import ROOT
    from tests.test_cli import newsner

    warehouse, _ = seeded
    path = ROOT / "warehouse" / "queries" / f"{name}.sql"
    done = newsner("sql", "--file", str(path), "--csv", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    expected = rows(warehouse, path.read_text())
    printed = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert expected and printed == [["" if v is None else str(v) for v in row] for row in expected]


def test_reprocess_with_another_model_keeps_both_and_aggregates_follow_one(prefect_server,
                                                                          tmp_path):
    import spacy

    from flows.pipeline import newsner_reprocess
    from tasks.settings import Settings
    from tasks.warehouse import Warehouse
    from tests.test_views import assert_aggregates_match_mentions

    rules = spacy.blank("en")  # a second, real spaCy pipeline: rules instead of a model
    rules.add_pipe("entity_ruler").add_patterns([
        {"label": "PERSON", "pattern": [{"LOWER": "kim"}, {"LOWER": "jong"}, {"ORTH": "-"},
                                        {"LOWER": "un"}]},
        {"label": "GPE", "pattern": "Pyongyang"}])
    rules.to_disk(tmp_path / "rules")
    alternative = str(tmp_path / "rules")

    warehouse = tmp_path / "w"
    run([SEEDS], warehouse)
    small = rows(warehouse, "SELECT count(*) FROM mentions")[0][0]
    summary = newsner_reprocess(Settings(warehouse=warehouse, model=alternative))
    assert summary["n_inputs"] == 11 and summary["n_new_articles"] == 0
    by_model = dict(rows(warehouse, "SELECT model, count(*) FROM mentions GROUP BY model"))
    assert by_model["en_core_web_sm"] == small and 0 < by_model[alternative] < small
    assert {r[0] for r in rows(warehouse, "SELECT entity_id FROM entities")} == {
        "person:kim jong un", "place:pyongyang"}
    assert_aggregates_match_mentions(Warehouse(warehouse), alternative)
    again = newsner_reprocess(Settings(warehouse=warehouse, model=alternative))
    assert again["n_inputs"] == 0 and not again["changed"]

    run([SEEDS], warehouse)  # the default model's run switches the aggregates back
    assert_aggregates_match_mentions(Warehouse(warehouse), "en_core_web_sm")
    compared = rows(warehouse, "SELECT model, count(*) FROM mentions WHERE entity_id = "
                               "'person:kim jong un' GROUP BY model ORDER BY model")
    assert len(compared) == 2  # both models side by side in SQL


def assert_lake_equals_tables(warehouse) -> None:
    """Every table's Parquet copy (warehouse/parquet/<table>/, hive partitions) holds exactly its
    rows in DuckDB."""
    from tasks.warehouse import LAKE, table_names

    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        for table in table_names():
            files = list((warehouse / "parquet" / table).rglob("*.parquet"))
            if not files:
                assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
                continue
            drop = f"EXCLUDE ({LAKE[table][0]})" if table in LAKE else ""
            lake = (f"SELECT * {drop} FROM read_parquet('{warehouse}/parquet/{table}/**/*.parquet',"
                    " hive_partitioning = true)")
            differ = con.execute(f"SELECT count(*) FROM (({lake}) EXCEPT ALL (FROM {table})) "
                                 f"UNION ALL SELECT count(*) FROM ((FROM {table}) EXCEPT ALL "
                                 f"({lake}))").fetchall()
            assert differ == [(0,), (0,)], table


def _export(path, items) -> None:
    import json

    with path.open("a") as out:
        for n, day, text in items:
            out.write(json.dumps({"id": f"x{n}", "text": text, "source": "Harbor Wire",
                                  "published": f"{day}T09:00:00Z"}) + "\n")


def test_a_grown_export_is_read_from_where_it_stopped_and_the_lake_rewrites_only_its_partitions(
        prefect_server, tmp_path):
    import os

    export = tmp_path / "export.jsonl"
    _export(export, [
        (1, "2025-10-02", "Kim Jong-un met Vladimir Putin in Moscow on Thursday."),
        (2, "2025-10-20", "Putin said Russia and North Korea would sign a new pact."),
        (3, "2025-11-04", "Seoul protested after Pyongyang fired two missiles."),
        (4, "2025-11-18", "NATO ministers met in Brussels to discuss Ukraine."),
    ])
    warehouse = tmp_path / "w"
    run([export], warehouse)
    assert_lake_equals_tables(warehouse)
    lake = warehouse / "parquet"
    for path in lake.rglob("*.parquet"):
        os.utime(path, (1, 1))  # any file the next run writes has a newer time

    _export(export, [(5, "2025-12-05", "Kim Jong-un praised Vladimir Putin in a letter.")])
    summary = run([export], warehouse)
    assert summary["n_inputs"] == 1 and summary["n_new_articles"] == 1  # only the new line
    rewritten = {p.relative_to(lake).parts[:2] for p in lake.rglob("*.parquet")
                 if p.stat().st_mtime > 1}
    month = {("articles", "month=2025-12"), ("mentions", "month=2025-12"),
             ("sentences", "month=2025-12"), ("story_signatures", "month=2025-12"),
             ("story_bands", "month=2025-12"), ("entity_daily", "month=2025-12"),
             ("entity_weekly", "month=2025-12"), ("mention_tones", "month=2025-12")}
    assert month <= rewritten
    buckets = dict(rows(warehouse, """
        SELECT 'entities', list(DISTINCT 'bucket=' || substr(md5(entity_id), 1, 1)) FROM mentions
        WHERE run_id = ? UNION ALL
        SELECT 'entity_aliases', list(DISTINCT 'bucket=' || substr(md5(entity_id), 1, 1))
        FROM mentions WHERE run_id = ?""", [summary["run_id"]] * 2))
    others = {r for r in rewritten if r not in month and r[0] not in (
        "cooccurrence", "name_forms", "acronyms", "runs", "sources")}
    assert {(t, b) for t, b in others} <= {(t, b) for t, bs in buckets.items() for b in bs}
    assert ("runs", "part-0.parquet") in rewritten and ("sources", "part-0.parquet") in rewritten
    assert not {r for r in rewritten if r[0] in ("meta", "rejects")}  # unchanged: not written
    assert not {r for r in rewritten if r[1].startswith("month=") and r[1] != "month=2025-12"}
    assert_lake_equals_tables(warehouse)


def test_a_capitals_acronym_joins_its_expansion_in_the_seeds(seeded):
    warehouse, _ = seeded
    # "UN" and "United Nations" both appear in 2025-10-27-northern-ledger-un-debate.txt
    assert rows(warehouse, "SELECT entity_id, rule FROM entity_keys WHERE key = 'org:un'") == [
        ("org:united nations", "acronym")]
    assert rows(warehouse, "SELECT DISTINCT entity_id FROM mentions WHERE text = 'UN'") == [
        ("org:united nations",)]
    assert rows(warehouse, "SELECT name FROM entities WHERE entity_id = 'org:united nations'") == [
        ("United Nations",)]


def test_an_alias_file_rerun_on_the_seeds_merges_without_ner_and_the_lake_follows(
        seeded, tmp_path):
    from tasks.warehouse import Warehouse
    from tests.test_views import assert_aggregates_match_mentions

    warehouse = tmp_path / "w"
    shutil.copytree(seeded[0], warehouse)
    council = rows(warehouse, "SELECT count(*) FROM mentions "
                              "WHERE entity_id = 'org:united nations security council'")[0][0]
    un = rows(warehouse, "SELECT n_mentions FROM entities WHERE entity_id = 'org:united nations'")
    assert council >= 1 and un[0][0] >= 2
    before = rows(warehouse, "SELECT * EXCLUDE (entity_id) FROM mentions ORDER BY ALL")
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("name,label,aliases\nUnited Nations,ORG,United Nations Security Council\n")

    summary = run([SEEDS], warehouse, aliases=aliases)
    assert summary["n_new_articles"] == 0 and summary["n_mentions"] == 0 and summary["changed"]
    assert rows(warehouse, "SELECT * EXCLUDE (entity_id) FROM mentions ORDER BY ALL") == before
    assert rows(warehouse, "SELECT n_mentions FROM entities WHERE entity_id = "
                           "'org:united nations'") == [(un[0][0] + council,)]
    assert rows(warehouse, "SELECT rule FROM entity_keys WHERE key = "
                           "'org:united nations security council'") == [("alias_file",)]
    assert not rows(warehouse, "SELECT 1 FROM entities WHERE entity_id = "
                               "'org:united nations security council'")
    assert_aggregates_match_mentions(Warehouse(warehouse))
    assert_lake_equals_tables(warehouse)


GERMAN = ("Bundeskanzler Olaf Scholz hat am Mittwoch in Berlin mit dem französischen Präsidenten "
          "Emmanuel Macron über die Lage in der Ukraine gesprochen. Beide Politiker betonten, dass "
          "die Europäische Union ihre Unterstützung fortsetzen werde, und kündigten ein weiteres "
          "Treffen im kommenden Monat in Paris an. Die Gespräche dauerten nach Angaben eines "
          "Regierungssprechers mehr als zwei Stunden und seien sehr konstruktiv gewesen.")
RESULTS = ("SOCCER - BUNDESLIGA RESULTS.\nBERLIN 1996-08-24\nResults of German first division "
           "matches on Saturday:\nBayern Munich 2 Hamburg 1\nWerder Bremen 0 Schalke 0\nBorussia "
           "Dortmund 3 Freiburg 1\nVfB Stuttgart 1 Karlsruhe 2\n")


def test_other_languages_are_kept_out_of_ner_and_english_tables_are_not(prefect_server,
                                                                          tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "de.txt").write_text(GERMAN)
    (folder / "results.txt").write_text(RESULTS)
    warehouse = tmp_path / "w"
    summary = run([folder], warehouse)
    assert summary["n_new_articles"] == 2 and summary["n_other_language"] == 1
    # a table of names and numbers is weak evidence of any language: it goes to NER, keeping
    # the language the detector named (tasks/clean.py, detect_language)
    stored = dict(rows(warehouse, "SELECT regexp_extract(input_path, '[^/]+$'), language "
                                  "FROM articles"))
    assert stored["de.txt"] == "de"
    by_file = dict(rows(warehouse, "SELECT regexp_extract(a.input_path, '[^/]+$'), count(m.text) "
                                   "FROM articles a LEFT JOIN mentions m USING (article_id) "
                                   "GROUP BY ALL"))
    assert by_file["de.txt"] == 0 and by_file["results.txt"] >= 4  # the clubs and the city
    assert not rows(warehouse, "SELECT 1 FROM sentences JOIN articles USING (article_id) "
                               "WHERE language = 'de'")


def test_reprocess_gives_an_older_warehouse_places_quotes_and_tone_for_its_stored_articles(
        prefect_server, tmp_path):
    from flows.pipeline import newsner_reprocess
    from tasks.settings import Settings
    from tests.test_migrations import v1_warehouse

    w = v1_warehouse(tmp_path / "w")  # schema 001: 'Kim spoke in Seoul.' by model 'm'
    newsner_reprocess(Settings(warehouse=w.root))
    stored = rows(w.root, "SELECT p.geonameid, count(t.tone) FROM mention_places AS p JOIN "
                          "mention_tones AS t USING (article_id, model) WHERE p.model = 'm' "
                          "GROUP BY ALL")
    assert stored == [(1835848, 2)]  # Seoul, and the tone of both stored mentions
    again = rows(w.root, "SELECT count(*) FROM meta WHERE key IN ('places_pending', 'speech_pending')")
    assert again == [(0,)]
