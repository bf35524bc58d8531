"""Schema migrations: numbered files bring any released warehouse to the declared schema in place."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from tasks.warehouse import (
    Migration,
    Warehouse,
    WarehouseError,
    load_sql,
    migrate,
    migrations,
    pending_migrations,
    query,
    schema_version,
    table_names,
)


def catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Return table -> [(column, type)] of the database's own tables."""
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_name, column_index").fetchall():
        out.setdefault(table, []).append((column, kind))
    return out


def test_the_migrations_build_the_declared_schema():
    declared, migrated = duckdb.connect(), duckdb.connect()
    declared.execute(load_sql("schema"))
    for migration in migrations():
        migrated.execute(migration.sql)
    assert catalog(migrated) == catalog(declared)
    assert [m.version for m in migrations()] == list(range(1, schema_version() + 1))


def v1_warehouse(root) -> Warehouse:
    """A warehouse as the first release wrote it: schema 001, a stored article with a mention."""
    warehouse = Warehouse(root)
    root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute(load_sql("migrations/001_initial"))
        con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('aggregate_model', 'm')")
        con.execute("INSERT INTO articles VALUES ('a1', 'x.txt', 'Wire', NULL, 'Kim in Seoul', NULL, "
                    "['Ann Lee'], ?, 'metadata', 'Kim spoke in Seoul.', 4, 'en', 0.99, 'wire', NULL, "
                    "'a1', 'x.txt', 'r1')", [datetime(2025, 10, 20, 9)])
        con.execute("INSERT INTO mentions VALUES ('a1', 0, 3, 0, 'Kim', 'PERSON', 'person:kim', "
                    "'person:kim', 'Kim', 'm', '1', 'r1'), ('a1', 13, 18, 0, 'Seoul', 'GPE', "
                    "'place:seoul', 'place:seoul', 'Seoul', 'm', '1', 'r1')")
        con.execute("INSERT INTO entity_keys VALUES ('person:kim', 'person:kim', 'self', NULL, NULL), "
                    "('place:seoul', 'place:seoul', 'self', NULL, NULL)")
        con.execute("INSERT INTO entities VALUES ('person:kim', 'Kim', 'PERSON', 1, 1, 1, 1, ?, ?)",
                    [datetime(2025, 10, 20, 9)] * 2)
        con.execute("INSERT INTO rejects VALUES ('j1', 'bad.txt', NULL, 'binary', 'NUL bytes', 'r1')")
    return warehouse


def rows_of(warehouse: Warehouse, columns: dict[str, list[tuple[str, str]]]) -> dict[str, list]:
    """Return every row of every table, reading only the given columns (those of the old schema)."""
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        return {table: con.execute(
            f"SELECT {', '.join(c for c, _ in cols)} FROM {table} ORDER BY ALL").fetchall()
            for table, cols in columns.items()}


def test_an_older_warehouse_upgrades_in_place_keeping_every_row(tmp_path):
    assert schema_version() > 1, "no migration after 001 yet: nothing to upgrade"
    warehouse = v1_warehouse(tmp_path / "w")
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        old_columns = catalog(con)
    before = rows_of(warehouse, old_columns)
    with pytest.raises(WarehouseError, match="`newsner migrate`"):
        query(warehouse, "SELECT count(*) FROM articles")  # readers say what to do
    assert [m.version for m in pending_migrations(warehouse)] == list(range(2, schema_version() + 1))

    applied, backup = migrate(warehouse)
    assert [m.version for m in applied] == list(range(2, schema_version() + 1))
    after = rows_of(warehouse, old_columns)
    assert after.pop("meta") == [("aggregate_model", "m"), ("places_pending", "1"),  # 004
                                 ("schema_version", str(schema_version())),
                                 ("speech_pending", "1")]  # 005
    assert after == {table: rows for table, rows in before.items() if table != "meta"}
    assert query(warehouse, "SELECT value FROM meta WHERE key = 'schema_version'")[1] == [
        (str(schema_version()),)]
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        assert set(catalog(con)) >= set(table_names())
    # the new columns say what the old rows were: routed on detection, found by the model
    assert query(warehouse, "SELECT language_evidence FROM articles")[1] == [("detected",)]
    assert query(warehouse, "SELECT DISTINCT rule FROM mentions")[1] == [("model",)]
    assert query(warehouse, "SELECT count(*) FROM mention_context")[1] == [(2,)]  # views work
    assert backup.exists()
    with duckdb.connect(str(backup), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    assert migrate(warehouse) == ([], None)  # a second upgrade has nothing to do


def test_a_failing_migration_leaves_the_warehouse_at_its_old_version(tmp_path, monkeypatch):
    warehouse = v1_warehouse(tmp_path / "w")
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        old_columns = catalog(con)
    before = rows_of(warehouse, old_columns)
    broken = Migration(schema_version() + 1, "999_broken")
    monkeypatch.setattr(Migration, "sql", property(
        lambda m: "SELECT * FROM no_such_table" if m is broken else load_sql(f"migrations/{m.name}")))
    monkeypatch.setattr("tasks.warehouse.migrations", lambda: (*migrations(), broken))
    monkeypatch.setattr("tasks.warehouse.schema_version", lambda: broken.version)
    with pytest.raises(duckdb.CatalogException):
        migrate(warehouse)
    assert rows_of(warehouse, old_columns) == before
    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
        assert "language_evidence" not in {c for c, _ in catalog(con)["articles"]}


def test_a_newer_warehouse_is_refused(tmp_path):
    warehouse = v1_warehouse(tmp_path / "w")
    with duckdb.connect(str(warehouse.db_path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WarehouseError, match="schema version 99, newer.*upgrade newsner"):
        migrate(warehouse)
    with pytest.raises(WarehouseError, match="schema version 99, newer.*upgrade newsner"):
        query(warehouse, "SELECT 1")


def test_newsner_migrate_dry_run_says_what_would_change_and_changes_nothing(tmp_path):
    from tests.test_cli import newsner

    warehouse = v1_warehouse(tmp_path / "w")
    before = warehouse.db_path.read_bytes()
    done = newsner("migrate", "--dry-run", "--warehouse", str(warehouse.root))
    assert done.returncode == 0, done.stderr
    assert f"from schema version 1 to {schema_version()}" in done.stdout
    assert "002_entity_quality" in done.stdout
    assert warehouse.db_path.read_bytes() == before
    done = newsner("migrate", "--warehouse", str(warehouse.root))
    assert done.returncode == 0, done.stderr
    assert f"upgraded to schema version {schema_version()}" in done.stdout
    assert list(warehouse.root.glob("newsner.v1.duckdb.bak"))
    again = newsner("migrate", "--warehouse", str(warehouse.root))
    assert "nothing to do" in again.stdout
