import re
from datetime import datetime

import duckdb
import pyarrow.parquet as pq
import pytest

from tasks.resolve import resolve_keys
from tasks.warehouse import (
    LAKE,
    Warehouse,
    WarehouseError,
    arrow_schema,
    commit_run,
    compute_aggregates,
    export_parquet,
    known_article_ids,
    load_sql,
    query,
    resolution_inputs,
    table_names,
    to_arrow,
    writer_lock,
)

ARTICLES = [
    {"article_id": "a1", "external_id": "one.txt", "source": "Wire", "authors": [],
     "published_at": datetime(2025, 10, 20, 9), "date_method": "metadata",
     "text": "Kim met Putin. Seoul watched.", "word_count": 5, "input_path": "one.txt",
     "extraction_method": "wire", "story_id": "a1", "run_id": "r1"},
    {"article_id": "a2", "external_id": "two.txt", "source": "Ledger", "authors": ["Ann Lee"],
     "published_at": None, "date_method": "none", "text": "Putin spoke. Kim listened in Seoul.",
     "word_count": 6, "input_path": "two.txt", "extraction_method": "wire", "story_id": "a1",
     "run_id": "r1"},
]


def _mention(article_id, start, end, sentence, text, label, entity_id, name):
    return {"article_id": article_id, "start_char": start, "end_char": end,
            "sentence_index": sentence, "text": text, "label": label, "entity_id": entity_id,
            "key": entity_id, "name": name, "model": "m", "model_version": "1", "run_id": "r1"}


MENTIONS = [
    _mention("a1", 0, 3, 0, "Kim", "PERSON", "person:kim", "Kim"),
    _mention("a1", 8, 13, 0, "Putin", "PERSON", "person:putin", "Putin"),
    _mention("a1", 15, 20, 1, "Seoul", "GPE", "place:seoul", "Seoul"),
    _mention("a2", 0, 5, 0, "Putin", "PERSON", "person:putin", "Putin"),
    _mention("a2", 13, 16, 1, "Kim", "ORG", "person:kim", "Kim"),
    _mention("a2", 30, 35, 1, "Seoul", "GPE", "place:seoul", "Seoul"),
]

RUN = {"run_id": "r1", "started_at": datetime(2025, 1, 1), "finished_at": datetime(2025, 1, 1),
       "inputs": ["x"], "model": "m", "model_version": "1", "n_inputs": 2, "n_duplicates": 0,
       "n_new_articles": 2, "n_other_language": 0, "n_mentions": 6, "n_rejects": 0,
       "stage_seconds": "{}"}


def _stage(warehouse, run_id="r1", articles=ARTICLES, mentions=MENTIONS):
    staging = warehouse.staging(run_id)
    staging.write("articles", to_arrow("articles", articles))
    staging.write("mentions", to_arrow("mentions", mentions))
    staging.write("rejects", to_arrow("rejects", []))
    counts, acronyms, caps = resolution_inputs(warehouse, staging)
    staging.write("entity_keys", to_arrow("entity_keys", resolve_keys(
        counts, acronyms, caps_keys=caps, counts=counts)))
    compute_aggregates(warehouse, staging, model="m")
    return staging


def _counts(warehouse):
    return {t: query(warehouse, f"SELECT count(*) FROM {t}")[1][0][0] for t in table_names()}


def test_schema_applies_to_an_empty_database_and_declares_every_table():
    con = duckdb.connect()
    con.execute(load_sql("schema"))
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == set(table_names()) == {
        "meta", "articles", "story_signatures", "story_bands", "mentions", "sentences", "acronyms",
        "entity_keys", "entities", "entity_aliases", "entity_daily", "entity_weekly",
        "cooccurrence", "name_forms", "sources", "rejects", "runs", "places", "mention_places",
        "article_focus", "quotes", "mention_tones"}


def test_arrow_schemas_are_derived_from_schema_sql():
    sql = load_sql("schema")
    for table in table_names():
        body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", sql, re.S)[1]
        declared = re.findall(r"^\s{4}(\w+)\s+[A-Z]", body, re.M)
        assert arrow_schema(table).names == [c for c in declared if c not in
                                             ("PRIMARY", "CHECK")]


def test_commit_stores_the_run_and_aggregates_match_hand_counts(tmp_path):
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    assert _counts(warehouse)["mentions"] == 6
    _, rows = query(warehouse, "SELECT entity_id, name, label, n_mentions, n_articles, n_stories,"
                               " first_seen, last_seen FROM entities ORDER BY entity_id")
    day = datetime(2025, 10, 20, 9)
    assert rows == [
        # one PERSON and one ORG vote: the tie goes to the alphabetically first label;
        # both articles are copies of one story
        ("person:kim", "Kim", "ORG", 2, 2, 1, day, day),
        ("person:putin", "Putin", "PERSON", 2, 2, 1, day, day),
        ("place:seoul", "Seoul", "GPE", 2, 2, 1, day, day),
    ]
    _, rows = query(warehouse, "SELECT CAST(day AS VARCHAR), entity_id, source, n_mentions, "
                               "n_articles, n_stories FROM entity_daily WHERE entity_id = 'person:kim'")
    assert sorted(rows, key=str) == sorted([("2025-10-20", "person:kim", "Wire", 1, 1, 1),
                                            (None, "person:kim", "Ledger", 1, 1, 1)], key=str)
    _, rows = query(warehouse, "SELECT entity_a, entity_b, n_articles, n_sentences "
                               "FROM cooccurrence ORDER BY entity_a, entity_b")
    # a1: Kim+Putin in sentence 0; a2: Kim+Seoul in sentence 1
    assert rows == [("person:kim", "person:putin", 2, 1), ("person:kim", "place:seoul", 2, 1),
                    ("person:putin", "place:seoul", 2, 0)]


def test_commit_is_idempotent_and_known_ids_are_found(tmp_path):
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    before = _counts(warehouse)
    assert commit_run(warehouse, _stage(warehouse, "r2"), {**RUN, "run_id": "r2"}).changed is False
    assert _counts(warehouse) == before  # not even a `runs` row for a run that brought nothing
    assert known_article_ids(warehouse, ["a1", "zz"]) == ({"a1"}, set())


def test_a_commit_that_fails_midway_leaves_the_warehouse_as_it_was(tmp_path):
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    before = {t: query(warehouse, f"SELECT * FROM {t} ORDER BY ALL")[1] for t in table_names()}
    new_article = {**ARTICLES[0], "article_id": "a3", "story_id": "a3", "text": "Kim again."}
    staging = _stage(warehouse, "r2", ARTICLES + [new_article],
                     MENTIONS + [_mention("a3", 0, 3, 0, "Kim", "PERSON", "person:kim", "Kim")])
    staging.parts("cooccurrence")[0].write_bytes(b"not parquet")  # fails after articles are in
    with pytest.raises(duckdb.Error, match="parquet"):
        commit_run(warehouse, staging, {**RUN, "run_id": "r2"})
    after = {t: query(warehouse, f"SELECT * FROM {t} ORDER BY ALL")[1] for t in table_names()}
    assert after == before


def test_parquet_lake_holds_every_table_partitioned_by_month_or_bucket(tmp_path):
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    export_parquet(warehouse)
    counts = _counts(warehouse)
    lake = tmp_path / "parquet"
    # a partitioned table has a file per partition it has rows in; the others one file each
    assert {p.name for p in lake.iterdir() if p.is_dir()} == {
        t for t, n in counts.items() if n or t not in LAKE}
    for name, n in counts.items():
        if not n:
            continue
        table = pq.read_table(lake / name, partitioning="hive")
        assert [c for c in table.schema.names if c not in ("month", "bucket")] == arrow_schema(
            name).names
        assert table.num_rows == n, name
    months = sorted(p.name for p in (lake / "articles").iterdir())
    assert months == ["month=2025-10", "month=undated"]
    assert [p.name for p in (lake / "articles" / "month=2025-10").iterdir()] == ["part-0.parquet"]
    assert all(p.name.startswith("bucket=") for p in (lake / "cooccurrence").iterdir())
    export_parquet(warehouse)  # a second export replaces, never piles up files
    assert len(list(lake.rglob("*.parquet"))) == len(list(lake.rglob("part-0.parquet")))


def test_a_second_writer_is_refused_while_a_run_holds_the_lock(tmp_path):
    warehouse = Warehouse(tmp_path)
    with writer_lock(warehouse):
        with pytest.raises(WarehouseError, match="locked by another newsner run"):
            with writer_lock(warehouse):
                pass
    with writer_lock(warehouse):  # released again
        pass


def test_query_errors_and_missing_warehouse_are_one_line_messages(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse at"):
        query(Warehouse(tmp_path), "SELECT 1")
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    with pytest.raises(WarehouseError) as err:
        query(warehouse, "SELECT nope FROM articles")
    assert "\n" not in str(err.value)
    with pytest.raises(WarehouseError):
        query(warehouse, "DELETE FROM articles")
    assert _counts(warehouse)["articles"] == 2


def test_a_warehouse_of_another_schema_version_is_refused_with_a_message(tmp_path):
    warehouse = Warehouse(tmp_path)
    commit_run(warehouse, _stage(warehouse), RUN)
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WarehouseError, match="schema version 99.*upgrade newsner"):
        commit_run(warehouse, _stage(warehouse, "r2"), {**RUN, "run_id": "r2"})
    old = Warehouse(tmp_path / "old")
    old.root.mkdir()
    with duckdb.connect(str(old.db_path)) as con:
        con.execute("CREATE TABLE articles (article_id VARCHAR)")
    with pytest.raises(WarehouseError, match="not written by a released newsner"):
        commit_run(old, _stage(old), RUN)


def test_the_data_dictionary_documents_every_column_and_is_up_to_date():
    from tasks.dictionary import render
    from tests.conftest import ROOT

    text = render()
    assert (ROOT / "docs" / "DATA_DICTIONARY.md").read_text() == text, \
        "regenerate it: .venv/bin/python -m tasks.dictionary > docs/DATA_DICTIONARY.md"
    assert "|  |" not in text  # every table column has a meaning
    for view in ("top_entities", "entity_timeline", "trending", "cooccurring(entity_id)",
                 "mention_context"):
        assert f"### `{view}`" in text


def test_an_entity_is_named_by_its_most_common_full_form_and_labelled_by_its_full_forms(tmp_path):
    warehouse = Warehouse(tmp_path)
    forms = [  # (surface, label, key, times): the model's mentions across the corpus
        ("EU", "ORG", "org:eu", 6), ("European Union", "ORG", "org:european union", 15),
        ("Europe Union", "LOC", "place:europe union", 1),  # a one-off typo that defines "EU"
        ("Russian", "NORP", "norp:russian", 5), ("Russia", "GPE", "place:russia", 2),
        ("Zelensky", "PERSON", "person:zelensky", 4),
        ("Volodymyr Zelensky", "PERSON", "person:volodymyr zelensky", 1),
        ("UK", "GPE", "place:uk", 5), ("Britain", "GPE", "place:britain", 2),
        ("United Kingdom", "GPE", "place:united kingdom", 1),
    ]
    mentions = []
    for surface, label, key, times in forms:
        for _ in range(times):
            start = 10 * len(mentions)
            mentions.append({**_mention("a1", start, start + len(surface), 0, surface, label, key,
                                        surface)})
    staging = warehouse.staging("r1")
    staging.write("articles", to_arrow("articles", ARTICLES[:1]))
    staging.write("mentions", to_arrow("mentions", mentions))
    staging.write("acronyms", to_arrow("acronyms", [
        {"article_id": "a1", "acronym": "eu", "key": "place:europe union"}]))
    counts, acronyms, caps = resolution_inputs(warehouse, staging)
    staging.write("entity_keys", to_arrow("entity_keys", resolve_keys(
        counts, acronyms, caps_keys=caps, counts=counts)))
    compute_aggregates(warehouse, staging, model="m")
    commit_run(warehouse, staging, RUN)
    entities = dict((e, (n, label, m)) for e, n, label, m in query(
        warehouse, "SELECT entity_id, name, label, n_mentions FROM entities")[1])
    assert entities == {
        "org:european union": ("European Union", "ORG", 21),  # not "EU", nor the one-off typo
        "place:russia": ("Russia", "GPE", 7),  # the demonym counts, but neither names nor labels
        "person:volodymyr zelensky": ("Volodymyr Zelensky", "PERSON", 5),
        "place:united kingdom": ("Britain", "GPE", 8),  # "UK" is a code, Britain a full form
        "place:europe union": ("Europe Union", "LOC", 1),  # the typo keeps only itself
    }
    assert query(warehouse, "SELECT count(*) FROM entities WHERE name = lower(name)")[1] == [(0,)]


def _staged_aggregates(staging):
    from tasks.warehouse import AGGREGATES

    return {name: staging.read(name).to_pylist() for name in AGGREGATES}


def test_aggregation_beyond_its_memory_limit_runs_again_without_it(tmp_path, monkeypatch):
    import tasks.warehouse as storage

    unlimited = _staged_aggregates(_stage(Warehouse(tmp_path / "unlimited")))
    assert unlimited["cooccurrence"]  # something to count
    # too little for DuckDB to run these queries at all: each fails, then runs without the limit
    monkeypatch.setattr(storage, "AGGREGATE_MEMORY", "8MB")
    limits, fetch = [], storage._fetch_within

    def observed(con, *args, **kwargs):  # the limit each aggregate query starts under
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return fetch(con, *args, **kwargs)

    monkeypatch.setattr(storage, "_fetch_within", observed)
    limited = _staged_aggregates(_stage(Warehouse(tmp_path / "limited")))
    assert limits == ["7.6 MiB"] * len(storage.AGGREGATES)  # 8 MB, as DuckDB writes it
    assert limited == unlimited
    # the limit held only while the run aggregated: the database a new warehouse's reads use
    # (this process's own, in memory) runs a query of more than 8 MB again
    large = "SELECT count(DISTINCT i::VARCHAR) FROM range(1000000) AS t(i)"
    assert storage._empty_warehouse().execute(large).fetchone() == (1_000_000,)
