"""The one module that owns storage: the DuckDB file, the Parquet copies and the run's staging area.

Stages hand each other Parquet files in a staging folder; `commit_run` moves a whole run into DuckDB
in one transaction, so a run killed at any moment leaves the warehouse as it was.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

DB_NAME = "newsner.duckdb"
PARQUET_DIR = "parquet"
STAGING_DIR = ".staging"
LOCK_NAME = ".newsner.lock"

# Tables a run adds rows to; rows already there are kept (INSERT OR IGNORE on the primary key).
STORED = ("articles", "story_signatures", "story_bands", "mentions", "sentences", "acronyms",
          "rejects")
# Tables rebuilt from `articles` and `mentions` by the aggregation stage, in build order.
AGGREGATES = ("entities", "entity_aliases", "entity_daily", "entity_weekly", "cooccurrence")
# Tables a run replaces in part: the resolution whole, each aggregate for the run's dirty
# entities only (new mentions, or a changed resolution), which keeps large warehouses fast.
REPLACED = ("entity_keys", *AGGREGATES)
_GROUP_SCOPE = ("entity_id IN (SELECT entity_id FROM remapped) OR EXISTS (SELECT 1 FROM staged AS s "
                "WHERE s.entity_id = {table}.entity_id AND s.{period} IS NOT DISTINCT FROM "
                "{table}.{period} AND s.source IS NOT DISTINCT FROM {table}.source)")
SCOPES = {
    "entity_keys": "true",
    "entity_daily": _GROUP_SCOPE.format(table="entity_daily", period="day"),
    "entity_weekly": _GROUP_SCOPE.format(table="entity_weekly", period="week"),
    "cooccurrence": "entity_a IN (SELECT entity_id FROM remapped) "
                    "OR entity_b IN (SELECT entity_id FROM remapped) "
                    "OR EXISTS (SELECT 1 FROM staged AS s WHERE s.entity_a = cooccurrence.entity_a "
                    "AND s.entity_b = cooccurrence.entity_b)",
}


class WarehouseError(Exception):
    """A problem with the warehouse a user can act on; the message says what to do."""


# Views and table macros over the tables, one per file in tasks/sql/views/.
VIEWS = ("top_entities", "entity_timeline", "trending", "cooccurrence_scores", "cooccurring",
         "mention_context")


@cache
def load_sql(name: str) -> str:
    """Return the text of tasks/sql/<name>.sql (name may be "views/<view>")."""
    return resources.files("tasks").joinpath("sql", *f"{name}.sql".split("/")).read_text(
        encoding="utf-8")


@dataclass(frozen=True)
class Migration:
    """One numbered file of tasks/sql/migrations/: it brings version - 1 to `version`."""

    version: int
    name: str

    @property
    def sql(self) -> str:
        return load_sql(f"migrations/{self.name}")

    @property
    def summary(self) -> str:
        """The migration's first comment line, without its "Migration N:" prefix."""
        first = self.sql.splitlines()[0].removeprefix("--").strip()
        return re.sub(r"^Migration \d+:\s*", "", first)


@cache
def migrations() -> tuple[Migration, ...]:
    """Return every migration, in version order (001 is the first released schema)."""
    found = []
    for entry in resources.files("tasks").joinpath("sql", "migrations").iterdir():
        match = re.fullmatch(r"(\d{3})_\w+\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name.removesuffix(".sql")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration numbers must run 1, 2, 3, ...: {[m.name for m in found]}")
    return tuple(found)


def schema_version() -> int:
    """Return the schema version this newsner writes: the number of its last migration."""
    return migrations()[-1].version


def stored_version(con: duckdb.DuckDBPyConnection, *, where: str = "the warehouse") -> int | None:
    """Return the schema version recorded in the database, or None when it holds no tables."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not tables:
        return None
    if "meta" not in tables:
        raise WarehouseError(f"{where} has tables but no newsner schema version: it was not "
                             "written by a released newsner; pass --warehouse with another folder")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def check_version(con: duckdb.DuckDBPyConnection, *, where: str = "the warehouse") -> None:
    """Raise WarehouseError unless the database is empty or of this newsner's schema version."""
    found, current = stored_version(con, where=where), schema_version()
    if found is None or found == current:
        return
    if found > current:
        raise WarehouseError(f"{where} has schema version {found}, newer than this newsner's "
                             f"{current}: upgrade newsner to read it")
    raise WarehouseError(f"{where} has schema version {found}, this newsner uses {current}: "
                         "`newsner migrate` (or the next `newsner run`) upgrades it in place")


def apply_schema(con: duckdb.DuckDBPyConnection, *, where: str = "the warehouse") -> None:
    """Create the declared tables and views, after checking the file's schema version."""
    check_version(con, where=where)
    con.execute(load_sql("schema"))
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(schema_version())])
    create_views(con)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) every view and table macro."""
    for view in VIEWS:
        con.execute(load_sql(f"views/{view}"))


@cache
def table_names() -> tuple[str, ...]:
    """Return the tables declared in schema.sql, in declaration order."""
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", load_sql("schema")))


def _checked(table: str) -> str:
    if table not in table_names():
        raise ValueError(f"unknown table {table!r}")
    return table


@cache
def arrow_schema(table: str) -> pa.Schema:
    """Return the Arrow schema of `table`, derived from schema.sql (never declared twice)."""
    with duckdb.connect() as con:
        con.execute(load_sql("schema"))
        return con.execute(f"SELECT * FROM {_checked(table)} LIMIT 0").fetch_arrow_table().schema


@cache
def column_defaults(table: str) -> dict[str, object]:
    """Return column -> the value of its DEFAULT in schema.sql, for the columns that have one."""
    with duckdb.connect() as con:
        con.execute(load_sql("schema"))
        found = con.execute("SELECT column_name, column_default FROM duckdb_columns() "
                            "WHERE table_name = ? AND column_default IS NOT NULL",
                            [_checked(table)]).fetchall()
        return {name: con.execute(f"SELECT {default}").fetchone()[0] for name, default in found}


def to_arrow(table: str, rows: Sequence[dict]) -> pa.Table:
    """Return `rows` as an Arrow table with `table`'s columns (missing keys take the column's
    DEFAULT, else NULL)."""
    schema, defaults = arrow_schema(table), column_defaults(table)
    return pa.Table.from_pylist(
        [{name: row.get(name, defaults.get(name)) for name in schema.names} for row in rows],
        schema=schema)


@dataclass(frozen=True)
class Warehouse:
    """Paths of one warehouse folder."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def parquet_dir(self) -> Path:
        return self.root / PARQUET_DIR

    def staging(self, run_id: str) -> Staging:
        """Return the staging area of run `run_id`."""
        return Staging(self.root / STAGING_DIR / run_id)

    def exists(self) -> bool:
        return self.db_path.exists()


@dataclass(frozen=True)
class Staging:
    """A run's private folder of Parquet files, one per table, handed from stage to stage."""

    root: Path

    def path(self, name: str) -> Path:
        return self.root / f"{name}.parquet"

    def write(self, name: str, table: pa.Table) -> Path:
        """Write `table` as <name>.parquet atomically and return its path."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.path(name)
        tmp = target.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return target

    def read(self, name: str, *, table: str | None = None) -> pa.Table:
        """Return staged <name>, or an empty table with the schema of `table` (default: name)."""
        if not self.path(name).exists():
            return arrow_schema(table or name).empty_table()
        return pq.read_table(self.path(name))


@contextmanager
def writer_lock(warehouse: Warehouse) -> Iterator[None]:
    """Hold the warehouse's writer lock for a whole run; fail at once if another run holds it."""
    warehouse.root.mkdir(parents=True, exist_ok=True)
    with open(warehouse.root / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise WarehouseError(
                f"warehouse {warehouse.root} is locked by another newsner run (pid {holder}); "
                "wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            shutil.rmtree(warehouse.root / STAGING_DIR, ignore_errors=True)  # left by killed runs
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_unlocked(warehouse: Warehouse) -> None:
    """Raise WarehouseError now if another run holds the warehouse (checked again by the run)."""
    lock = warehouse.root / LOCK_NAME
    if not lock.exists():
        return
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "unknown"
            raise WarehouseError(
                f"warehouse {warehouse.root} is locked by another newsner run (pid {holder}); "
                "wait for it to finish"
            ) from None
        fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _connect_raw(warehouse: Warehouse, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database file itself, whatever its schema version."""
    try:
        con = duckdb.connect(str(warehouse.db_path), read_only=read_only)
    except duckdb.IOException as err:
        raise WarehouseError(f"cannot open {warehouse.db_path}: {err}".splitlines()[0]) from None
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _connect(warehouse: Warehouse, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not warehouse.exists():
        # An empty in-memory database with the declared schema stands in for a new warehouse.
        with duckdb.connect() as con:
            apply_schema(con)
            yield con
        return
    with _connect_raw(warehouse, read_only=read_only) as con:
        (check_version if read_only else apply_schema)(con, where=str(warehouse.db_path))
        yield con


def pending_migrations(warehouse: Warehouse) -> list[Migration]:
    """Return the migrations an existing warehouse still needs (none for a new or current one)."""
    if not warehouse.exists():
        return []
    with _connect_raw(warehouse, read_only=True) as con:
        found = stored_version(con, where=str(warehouse.db_path))
    if found is None:
        return []
    if found > schema_version():
        raise WarehouseError(f"{warehouse.db_path} has schema version {found}, newer than this "
                             f"newsner's {schema_version()}: upgrade newsner to read it")
    return [m for m in migrations() if m.version > found]


def migrate(warehouse: Warehouse) -> tuple[list[Migration], Path | None]:
    """Upgrade an older warehouse in place, keeping every row; return (migrations applied, backup).

    The file is first copied aside (newsner.v<N>.duckdb.bak); the migrations then run in one
    transaction, so a failure or a kill leaves the warehouse at its old version.
    """
    pending = pending_migrations(warehouse)
    if not pending:
        return [], None
    with _connect_raw(warehouse, read_only=False) as con:
        con.execute("CHECKPOINT")  # the copy then holds every committed row
    backup = warehouse.db_path.with_name(f"newsner.v{pending[0].version - 1}.duckdb.bak")
    partial = backup.with_name(backup.name + ".partial")
    shutil.copy2(warehouse.db_path, partial)
    os.replace(partial, backup)
    with _connect_raw(warehouse, read_only=False) as con:
        con.begin()
        try:
            for migration in pending:
                con.execute(migration.sql)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(pending[-1].version)])
            create_views(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return pending, backup


def known_article_ids(warehouse: Warehouse, article_ids: Sequence[str]) -> set[str]:
    """Return those of `article_ids` already stored in the warehouse."""
    if not warehouse.exists() or not article_ids:
        return set()
    with _connect(warehouse, read_only=True) as con:
        con.register("wanted", pa.table({"article_id": pa.array(article_ids, pa.string())}))
        rows = con.execute(
            "SELECT article_id FROM articles JOIN wanted USING (article_id)"
        ).fetchall()
    return {row[0] for row in rows}


def story_candidates(warehouse: Warehouse, band_keys: Sequence[int]) -> list[tuple[str, str, bytes]]:
    """Return (article_id, story_id, signature) of stored articles sharing any of `band_keys`."""
    if not warehouse.exists() or not band_keys:
        return []
    with _connect(warehouse, read_only=True) as con:
        con.register("wanted", pa.table({"band_key": pa.array(band_keys, pa.int64())}))
        return con.execute(load_sql("story_candidates")).fetchall()


def _register_staged(con: duckdb.DuckDBPyConnection, staging: Staging) -> None:
    """Make stored plus staged rows visible as all_articles, all_mentions, all_acronyms."""
    for name in ("articles", "mentions", "acronyms", "entity_keys"):
        _load_temp(con, f"new_{name}", staging.read(name))
    con.execute(load_sql("aggregate_inputs"))


def _load_temp(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into temp table `name` (DuckDB cannot push every filter into Arrow)."""
    con.register("arrow_input", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM arrow_input")
    con.unregister("arrow_input")


def aggregate_model(con: duckdb.DuckDBPyConnection) -> str | None:
    """Return the model whose mentions the stored aggregates count, if any."""
    row = con.execute("SELECT value FROM meta WHERE key = 'aggregate_model'").fetchone()
    return row[0] if row else None


def stored_name_forms(warehouse: Warehouse, *, model: str, forms: Sequence[str],
                      ) -> list[tuple[str, str, int]]:
    """Return the stored (form, label, n_articles) counts of `forms` for `model`."""
    if not warehouse.exists() or not forms:
        return []
    with _connect(warehouse, read_only=True) as con:
        con.register("wanted", pa.table({"form": pa.array(forms, pa.string())}))
        return con.execute("SELECT form, label, n_articles FROM name_forms JOIN wanted USING (form) "
                           "WHERE model = ? ORDER BY ALL", [model]).fetchall()


def articles_to_reprocess(warehouse: Warehouse, *, model: str) -> pa.Table:
    """Return the stored articles that `model` has not processed yet."""
    with _connect(warehouse, read_only=True) as con:
        return con.execute(load_sql("articles_to_reprocess"), {"model": model}).fetch_arrow_table()


def resolution_inputs(warehouse: Warehouse, staging: Staging, *, caps_share: float = 0.9,
                      ) -> tuple[dict[str, int], list[tuple[str, str]], list[str]]:
    """Return (mentions of every key, every (acronym, long key) definition, one per article,
    keys written in capitals in at least `caps_share` of their mentions), stored and staged."""
    with _connect(warehouse, read_only=True) as con:
        _register_staged(con, staging)
        keys = con.execute(load_sql("mention_keys"), {"caps_share": caps_share}).fetchall()
        acronyms = con.execute("SELECT acronym, key FROM all_acronyms ORDER BY ALL").fetchall()
    return {k: n for k, n, _ in keys}, acronyms, [k for k, _, caps in keys if caps]


def compute_aggregates(warehouse: Warehouse, staging: Staging, *, model: str) -> dict[str, int]:
    """Stage the aggregate tables over stored plus staged rows; return their row counts."""
    counts = {}
    with _connect(warehouse, read_only=True) as con:
        _register_staged(con, staging)
        if aggregate_model(con) not in (None, model):
            con.execute(load_sql("aggregate_model_switch"), {"model": model})
            con.execute("CREATE OR REPLACE TEMP TABLE dirty_entities AS "
                        "SELECT entity_id FROM remapped_entities")
        for name in ("dirty_entities", "remapped_entities"):
            staging.write(name, con.execute(
                f"SELECT entity_id FROM {name} ORDER BY ALL").fetch_arrow_table())
        for name in AGGREGATES:
            table = con.execute(load_sql(f"aggregate_{name}"), {"model": model}).fetch_arrow_table()
            staging.write(name, table.cast(arrow_schema(name)))
            counts[name] = table.num_rows
    return counts


def commit_run(warehouse: Warehouse, staging: Staging, run: dict) -> bool:
    """Move a staged run into DuckDB in one transaction and record it in `runs`.

    Return False, and change nothing (not even `runs`), when the run brings nothing new.
    """
    with _connect(warehouse, read_only=False) as con:
        con.begin()
        try:
            changed = 0
            for name in STORED:
                con.register("incoming", staging.read(name))
                changed += con.execute(
                    f"INSERT OR IGNORE INTO {_checked(name)} BY NAME SELECT * FROM incoming"
                ).fetchone()[0]
                con.unregister("incoming")
            con.register("incoming", staging.read("name_forms"))
            changed += con.execute(load_sql("add_name_forms")).fetchone()[0]
            con.unregister("incoming")
            for name in ("dirty", "remapped"):
                _load_temp(con, name, staging.read(f"{name}_entities", table="entity_keys")
                           .select(["entity_id"]))
            for name in REPLACED:
                scope = SCOPES.get(name, "entity_id IN (SELECT entity_id FROM dirty)")
                _load_temp(con, "staged", staging.read(name))
                changed += con.execute(
                    f"SELECT count(*) FROM ((FROM {_checked(name)} WHERE {scope} "
                    f"EXCEPT ALL FROM staged) UNION ALL (FROM staged EXCEPT ALL "
                    f"FROM {_checked(name)} WHERE {scope}))"
                ).fetchone()[0]
                con.execute(f"DELETE FROM {_checked(name)} WHERE {scope}")
                con.execute(f"INSERT INTO {_checked(name)} BY NAME SELECT * FROM staged")
            changed += con.execute(load_sql("apply_entity_keys")).fetchone()[0]
            if aggregate_model(con) != run["model"]:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('aggregate_model', ?)",
                            [run["model"]])
                changed += 1
            if changed:
                con.register("incoming", to_arrow("runs", [run]))
                con.execute("INSERT INTO runs BY NAME SELECT * FROM incoming")
                con.commit()
            else:
                con.rollback()
        except BaseException:
            con.rollback()
            raise
    shutil.rmtree(staging.root, ignore_errors=True)
    with suppress(OSError):
        staging.root.parent.rmdir()  # .staging itself, once no run uses it
    return bool(changed)


# Tables written as Parquet partitioned by month (hive layout, month=YYYY-MM or month=undated),
# with the query that adds the month column; the other tables are one file each.
PARTITIONED = {
    "articles": "SELECT *, coalesce(strftime(published_at, '%Y-%m'), 'undated') AS month "
                "FROM articles",
    "mentions": "SELECT m.*, coalesce(strftime(a.published_at, '%Y-%m'), 'undated') AS month "
                "FROM mentions AS m JOIN articles AS a USING (article_id)",
    "entity_daily": "SELECT *, coalesce(strftime(day, '%Y-%m'), 'undated') AS month "
                    "FROM entity_daily",
    "entity_weekly": "SELECT *, coalesce(strftime(week, '%Y-%m'), 'undated') AS month "
                     "FROM entity_weekly",
}


def export_parquet(warehouse: Warehouse) -> list[Path]:
    """Rewrite warehouse/parquet/<table>/ from DuckDB: one file per month partition (or per
    table), so files stay few and large; return the table folders written."""
    warehouse.parquet_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with _connect(warehouse, read_only=True) as con:
        for name in table_names():
            sql = PARTITIONED.get(name, f"SELECT * FROM {_checked(name)}")
            table = con.execute(sql).fetch_arrow_table()
            target = warehouse.parquet_dir / name
            fresh = warehouse.parquet_dir / f".{name}.new"
            shutil.rmtree(fresh, ignore_errors=True)
            if name in PARTITIONED:
                pq.write_to_dataset(table, fresh, partition_cols=["month"],
                                    basename_template="part-{i}.parquet")
            else:
                fresh.mkdir()
                pq.write_table(table, fresh / "part-0.parquet")
            old = warehouse.parquet_dir / f".{name}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                os.replace(target, old)
            os.replace(fresh, target)
            shutil.rmtree(old, ignore_errors=True)
            written.append(target)
    return written


def query(warehouse: Warehouse, sql: str, params: Sequence | dict | None = None,
          ) -> tuple[list[str], list[tuple]]:
    """Run one read-only query; return (column names, rows)."""
    if not warehouse.exists():
        raise WarehouseError(
            f"no warehouse at {warehouse.db_path}: run `newsner run` first or pass --warehouse"
        )
    with _connect(warehouse, read_only=True) as con:
        try:
            cursor = con.execute(sql, params)
        except duckdb.Error as err:
            raise WarehouseError(str(err).splitlines()[0]) from None
        if cursor.description is None:
            return [], []
        return [col[0] for col in cursor.description], cursor.fetchall()


def describe_relations() -> dict[str, list[tuple[str, str]]]:
    """Return table or view name -> [(column, type)] of the declared schema and views."""
    with duckdb.connect() as con:
        apply_schema(con)
        out = {}
        for name in (*table_names(), *(v for v in VIEWS if v != "cooccurring")):
            out[name] = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {name}").fetchall()]
        con.execute("CREATE TEMP TABLE example AS SELECT * FROM cooccurring('x') LIMIT 0")
        out["cooccurring"] = [(r[0], r[1]) for r in con.execute("DESCRIBE example").fetchall()]
    return out
