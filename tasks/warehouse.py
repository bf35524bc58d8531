"""The one module that owns storage: the DuckDB file, the Parquet copies and the run's staging area.

Stages hand each other Parquet files in a staging folder; `commit_run` moves a whole run into DuckDB
in one transaction, so a run killed at any moment leaves the warehouse as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tasks.errors import WarehouseError
from tasks.faults import fault_point

DB_NAME = "newsner.duckdb"
PARQUET_DIR = "parquet"
STAGING_DIR = ".staging"
LOCK_NAME = ".newsner.lock"

# Tables a run adds rows to; rows already there are kept (INSERT OR IGNORE on the primary key).
STORED = ("articles", "story_signatures", "story_bands", "mentions", "sentences", "acronyms",
          "rejects", "places", "mention_places", "article_focus", "quotes", "mention_tones")
# Tables rebuilt from `articles` and `mentions` by the aggregation stage, in build order.
AGGREGATES = ("entities", "entity_aliases", "entity_daily", "entity_weekly", "cooccurrence")
# Tables a run replaces in part: the resolution whole, each aggregate for the run's dirty
# entities only (new mentions, or a changed resolution), which keeps large warehouses fast.
REPLACED = ("entity_keys", *AGGREGATES)
_GROUP_SCOPE = ("entity_id IN (SELECT entity_id FROM remapped) OR EXISTS (SELECT 1 FROM staged AS s "
                "WHERE s.entity_id = {table}.entity_id AND s.{period} IS NOT DISTINCT FROM "
                "{table}.{period} AND s.source IS NOT DISTINCT FROM {table}.source)")
# The columns that identify a row of each replaced table (its primary or natural key).
ROW_KEYS = {
    "entity_keys": ("key",),
    "entities": ("entity_id",),
    "entity_aliases": ("entity_id", "surface", "label"),
    "entity_daily": ("day", "entity_id", "source"),
    "entity_weekly": ("week", "entity_id", "source"),
    "cooccurrence": ("entity_a", "entity_b"),
}
SCOPES = {
    "entity_keys": "true",
    "entity_daily": _GROUP_SCOPE.format(table="entity_daily", period="day"),
    "entity_weekly": _GROUP_SCOPE.format(table="entity_weekly", period="week"),
    "cooccurrence": "entity_a IN (SELECT entity_id FROM remapped) "
                    "OR entity_b IN (SELECT entity_id FROM remapped) "
                    "OR EXISTS (SELECT 1 FROM staged AS s WHERE s.entity_a = cooccurrence.entity_a "
                    "AND s.entity_b = cooccurrence.entity_b)",
}


# Views and table macros over the tables, one per file in tasks/sql/views/.
VIEWS = ("top_entities", "entity_timeline", "trending", "cooccurrence_scores", "cooccurring",
         "mention_context", "article_places", "place_daily", "country_timeline", "who_said_what",
         "speaker_daily", "entity_tone")


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


def run_script(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list:
    """Run the statements of a .sql file in order, each with the parameters it names; return the
    last one's rows."""
    rows: list = []
    for statement in (s for s in re.split(r";\s*\n", sql) if s.strip()):
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        rows = con.execute(statement, used or None).fetchall()
    return rows


@cache
def table_names() -> tuple[str, ...]:
    """Return the tables declared in schema.sql, in declaration order."""
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", load_sql("schema")))


def _checked(table: str) -> str:
    if table not in table_names():
        raise ValueError(f"unknown table {table!r}")
    return table


@cache
def _declared() -> dict[str, tuple[pa.Schema, dict[str, object]]]:
    """table -> (Arrow schema, column -> DEFAULT value), from schema.sql run once in memory."""
    out = {}
    with duckdb.connect() as con:
        con.execute(load_sql("schema"))
        for table in table_names():
            schema = con.execute(f"SELECT * FROM {table} LIMIT 0").fetch_arrow_table().schema
            found = con.execute("SELECT column_name, column_default FROM duckdb_columns() "
                                "WHERE table_name = ? AND column_default IS NOT NULL",
                                [table]).fetchall()
            out[table] = (schema, {name: con.execute(f"SELECT {default}").fetchone()[0]
                                   for name, default in found})
    return out


def arrow_schema(table: str) -> pa.Schema:
    """Return the Arrow schema of `table`, derived from schema.sql (never declared twice)."""
    return _declared()[_checked(table)][0]


def column_defaults(table: str) -> dict[str, object]:
    """Return column -> the value of its DEFAULT in schema.sql, for the columns that have one."""
    return _declared()[_checked(table)][1]


def to_arrow(table: str, rows: Sequence[dict]) -> pa.Table:
    """Return `rows` as an Arrow table with `table`'s columns (missing keys take the column's
    DEFAULT, else NULL)."""
    import pyarrow.compute as pc

    schema, defaults = arrow_schema(table), column_defaults(table)
    out = pa.Table.from_pylist(rows, schema=schema)  # a missing key is NULL here
    for name, value in defaults.items():  # where the column has a DEFAULT, it is that instead
        missing = [name not in row for row in rows]
        if any(missing):
            index = schema.get_field_index(name)
            field = schema.field(index)
            out = out.set_column(index, field, pc.if_else(
                pa.array(missing, pa.bool_()), pa.scalar(value, field.type), out.column(index)))
    return out


@dataclass(frozen=True)
class Warehouse:
    """Paths of one warehouse folder, and how long to wait for another process's lock on it."""

    root: Path
    lock_wait: float = 60.0  # seconds a reader waits for a commit (and a commit for readers)

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
    """A run's private folder: each staged table is a folder of Parquet parts, written chunk by
    chunk and handed from stage to stage."""

    root: Path

    def parts(self, name: str) -> list[Path]:
        """Return the parts of staged <name>, in order."""
        return sorted((self.root / name).glob("part-*.parquet"))

    def write(self, name: str, table: pa.Table, part: int = 0) -> Path:
        """Write `table` as part `part` of <name> atomically and return its path."""
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{part:05d}.parquet"
        tmp = target.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return target

    def read(self, name: str, *, table: str | None = None,
             columns: Sequence[str] | None = None) -> pa.Table:
        """Return every part of staged <name> as one table (only `columns`, if given), or an
        empty table with the schema of `table` (default: name)."""
        parts = self.parts(name)
        if not parts:
            schema = arrow_schema(table or name)
            return schema.empty_table().select(columns) if columns else schema.empty_table()
        return pa.concat_tables([pq.read_table(p, columns=columns) for p in parts])

    def read_part(self, name: str, part: int, *, table: str | None = None,
                  schema: pa.Schema | None = None) -> pa.Table:
        """Return part `part` of staged <name> (empty, with `schema` or the schema of table
        `table`, if absent)."""
        path = self.root / name / f"part-{part:05d}.parquet"
        if not path.exists():
            return (schema or arrow_schema(table or name)).empty_table()
        return pq.read_table(path)


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
        key = _shared_key(warehouse)
        try:
            shutil.rmtree(warehouse.root / STAGING_DIR, ignore_errors=True)  # left by killed runs
            _SHARED[key] = None  # nothing else writes the file now: reads may share a connection
            yield
        finally:
            _unshare(key)
            _SHARED.pop(key, None)
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


# While this process holds a warehouse's writer lock, nobody else writes its file: the run's many
# reads share one read-only connection (each through a cursor of its own) instead of opening the
# file each time (~30 ms an open and a close). Any write in this process closes it first.
_SHARED: dict[Path, duckdb.DuckDBPyConnection | None] = {}
_SHARING = threading.Lock()


def _shared_key(warehouse: Warehouse) -> Path:
    return warehouse.db_path.resolve()


def _shared_cursor(warehouse: Warehouse) -> duckdb.DuckDBPyConnection | None:
    """Return a cursor on the shared read-only connection of a warehouse this process holds the
    writer lock of (opened on first use), else None."""
    key = _shared_key(warehouse)
    with _SHARING:
        if key not in _SHARED:
            return None
        if _SHARED[key] is None:
            con = _open(warehouse, read_only=True)
            try:
                check_version(con, where=str(warehouse.db_path))
            except BaseException:
                con.close()
                raise
            _SHARED[key] = con
        return _SHARED[key].cursor()


def _unshare(key: Path) -> None:
    """Close the shared read-only connection of `key`, if open (before a write, at the end)."""
    with _SHARING:
        con = _SHARED.get(key)
        if con is not None:
            _SHARED[key] = None
            con.close()


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


def _open(warehouse: Warehouse, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the database file. DuckDB lets one process write it, or any number read it, at a
    time: a reader arriving during a run's commit, or a commit arriving while readers are open,
    waits for the other (up to warehouse.lock_wait seconds) instead of failing."""
    if not read_only:
        _unshare(_shared_key(warehouse))  # this process's own reader would block the write
    deadline, delay = time.monotonic() + warehouse.lock_wait, 0.02
    while True:
        try:
            return duckdb.connect(str(warehouse.db_path), read_only=read_only)
        except duckdb.IOException as err:
            locked = "lock" in str(err).lower()
            if not locked:
                raise WarehouseError(f"cannot open {warehouse.db_path}: {err}".splitlines()[0]
                                     ) from None
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"{warehouse.db_path} is being written by a newsner run for more than "
                    f"{warehouse.lock_wait:g} s (NEWSNER_LOCK_WAIT); try again, or read the last "
                    f"committed state in {warehouse.parquet_dir}/ meanwhile" if read_only else
                    f"{warehouse.db_path} stays open in other processes for more than "
                    f"{warehouse.lock_wait:g} s (a DuckDB shell, a notebook?): close them, then "
                    "run again") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextmanager
def _connect_raw(warehouse: Warehouse, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database file itself, whatever its schema version."""
    con = _open(warehouse, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@cache
def _empty_warehouse() -> duckdb.DuckDBPyConnection:
    """Return an in-memory database with the declared schema and nothing in it, made once per
    process (reads of a warehouse that does not exist yet read it). What a query spills goes to
    a folder of the process's own in the system's temporary folder (DuckDB makes and removes
    it), not to DuckDB's default, .tmp in the working directory."""
    import tempfile

    spill = Path(tempfile.gettempdir()) / f"newsner-{os.getpid()}.tmp"
    con = duckdb.connect(config={"temp_directory": str(spill)})
    apply_schema(con)
    return con


@contextmanager
def _connect(warehouse: Warehouse, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not warehouse.exists():
        # An empty in-memory database with the declared schema stands in for a new warehouse.
        con = _empty_warehouse().cursor()  # a connection of its own: its temp views are its own
        try:
            yield con
        finally:
            con.close()
        return
    if read_only and (shared := _shared_cursor(warehouse)) is not None:
        try:
            yield shared
        finally:
            shared.close()
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
            with suppress(duckdb.Error):  # a failed COMMIT has ended the transaction already;
                con.rollback()            # the error that ended it is the one to report
            raise
    return pending, backup


def _staged_view(con: duckdb.DuckDBPyConnection, view: str, staging: Staging | None,
                 name: str) -> None:
    """Make the staged parts of <name> (or nothing) queryable as temp view `view`."""
    parts = staging.parts(name) if staging else []
    if parts:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS "
                    f"SELECT * FROM read_parquet([{files}], union_by_name = true)")
    else:
        con.register(f"{view}_empty", arrow_schema(_checked(name)).empty_table())
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {view}_empty")


@contextmanager
def _reading(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the warehouse, or to an empty one when there is none yet."""
    with _connect(warehouse, read_only=True) as con:
        yield con


def known_article_ids(warehouse: Warehouse, article_ids: Sequence[str],
                      staging: Staging | None = None) -> tuple[set[str], set[str]]:
    """Return (those of `article_ids` stored in the warehouse, those staged by this run)."""
    if not article_ids:
        return set(), set()
    with _reading(warehouse) as con:
        _staged_view(con, "staged_articles", staging, "articles")
        con.register("wanted", pa.table({"article_id": pa.array(article_ids, pa.string())}))
        rows = con.execute(
            "SELECT article_id, true FROM articles JOIN wanted USING (article_id) UNION ALL "
            "SELECT article_id, false FROM staged_articles JOIN wanted USING (article_id)"
        ).fetchall()
    return {a for a, stored in rows if stored}, {a for a, stored in rows if not stored}


def story_candidates(warehouse: Warehouse, band_keys: Sequence[int],
                     staging: Staging | None = None) -> list[tuple[str, str, bytes]]:
    """Return (article_id, story_id, signature) of stored or staged articles sharing any of
    `band_keys`."""
    if not band_keys:
        return []
    with _reading(warehouse) as con:
        for name in ("articles", "story_bands", "story_signatures"):
            _staged_view(con, f"staged_{name}", staging, name)
        con.register("wanted", pa.table({"band_key": pa.array(band_keys, pa.int64())}))
        return con.execute(load_sql("story_candidates")).fetchall()


def stored_sources(warehouse: Warehouse, keys: Sequence[str]) -> dict[str, dict]:
    """Return the manifest rows (source -> row) of `keys`: what earlier runs read of them."""
    if not warehouse.exists() or not keys:
        return {}
    with _reading(warehouse) as con:
        con.register("wanted", pa.table({"source": pa.array(list(keys), pa.string())}))
        cursor = con.execute("SELECT s.* FROM sources AS s JOIN wanted USING (source) UNION ALL "
                             "SELECT * FROM sources WHERE kind = 'page'")
        names = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _register_staged(con: duckdb.DuckDBPyConnection, staging: Staging) -> None:
    """Make stored plus staged rows visible as all_articles, all_mentions, all_acronyms."""
    for name in ("articles", "mentions", "acronyms", "entity_keys"):
        _staged_view(con, f"staged_{name}", staging, name)
        con.execute(f"CREATE OR REPLACE TEMP TABLE new_{name} AS SELECT * FROM staged_{name}")
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


@contextmanager
def name_form_counts(warehouse: Warehouse, staging: Staging, *, model: str
                     ) -> Iterator[Callable[[Sequence[str]], list[tuple[str, str, int]]]]:
    """Yield a function returning the (form, label, n_articles) counts of the forms it is given,
    for `model`: stored plus staged. The run's staged counts are summed once, here, not at
    each call (a run asks once per part)."""
    with _reading(warehouse) as con:
        _staged_view(con, "staged_name_form_parts", staging, "name_forms")
        con.execute("CREATE OR REPLACE TEMP TABLE staged_name_forms AS SELECT model, form, label, "
                    "sum(n_articles) AS n_articles FROM staged_name_form_parts "
                    "WHERE model = $model GROUP BY ALL", {"model": model})

        def counts(forms: Sequence[str]) -> list[tuple[str, str, int]]:
            if not forms:
                return []
            con.register("wanted", pa.table({"form": pa.array(forms, pa.string())}))
            try:
                return con.execute(load_sql("name_form_counts"), {"model": model}).fetchall()
            finally:
                con.unregister("wanted")

        yield counts


def articles_to_reprocess(warehouse: Warehouse, *, model: str, after: str = "",
                          limit: int = 1_000) -> pa.Table:
    """Return the NER input of up to `limit` stored articles `model` has not processed yet, in
    article_id order from above `after`."""
    with _connect(warehouse, read_only=True) as con:
        return con.execute(load_sql("articles_to_reprocess"),
                           {"model": model, "after": after, "limit": limit}).fetch_arrow_table()


def resolution_inputs(warehouse: Warehouse, staging: Staging, *, caps_share: float = 0.9,
                      ) -> tuple[dict[str, int], list[tuple[str, str]], list[str]]:
    """Return (mentions of every key, every (acronym, long key) definition, one per article,
    keys written in capitals in at least `caps_share` of their mentions), stored and staged."""
    with _connect(warehouse, read_only=True) as con:
        _register_staged(con, staging)
        keys = con.execute(load_sql("mention_keys"), {"caps_share": caps_share}).fetchall()
        acronyms = con.execute("SELECT acronym, key FROM all_acronyms ORDER BY ALL").fetchall()
    return {k: n for k, n, _ in keys}, acronyms, [k for k, _, caps in keys if caps]


def pending(warehouse: Warehouse, flag: str) -> bool:
    """Return True when stored articles still wait for a stage a migration added (meta `flag`)."""
    if not warehouse.exists():
        return False
    with _reading(warehouse) as con:
        return con.execute("SELECT count(*) FROM meta WHERE key = ?", [flag]).fetchone()[0] > 0


def pending_inputs(warehouse: Warehouse, *, done: str, labels: Sequence[str] | None, after: str,
                   limit: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Return the next `limit` stored articles (ids above `after`) with no row in table `done`
    and mentions of `labels` (any label: None), with those mentions and the articles' sentences."""
    with _reading(warehouse) as con:
        params = {"after": after, "limit": limit, "labels": list(labels) if labels else None}
        con.execute(load_sql("pending_articles").replace("{done}", _checked(done)), params)
        articles = con.execute("SELECT * FROM pending_articles ORDER BY article_id"
                               ).fetch_arrow_table()
        mentions = con.execute(load_sql("pending_mentions"), {"labels": params["labels"]}
                               ).fetch_arrow_table()
        sentences = con.execute(load_sql("pending_sentences")).fetch_arrow_table()
    return articles, mentions, sentences


# DuckDB memory the aggregation of a run may hold; it spills the rest to disk (beside the database
# file, or for a new warehouse, see _empty_warehouse).
# Aggregation counts over every stored and staged mention, and would otherwise hold memory in
# proportion to them: on the benchmark's corpus at 4x, 918 MB, against 460 MB with this limit
# (aggregation alone took 1-1.8 s more; in the benchmark, 2.9 s against 2.5 s); 458 and 427 MB at 1x.
AGGREGATE_MEMORY = "256MB"


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, memory: str) -> Iterator[str]:
    """Hold the queries of `con`'s database to `memory` meanwhile (the rest spills to disk);
    yield the limit it had (DuckDB's default: most of the machine's memory)."""
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("SET memory_limit = ?", [memory])
    try:
        yield before
    finally:  # set, not RESET: DuckDB 1.5 resets the setting but leaves its buffer pool held
        con.execute("SET memory_limit = ?", [before])


def _fetch_within(con: duckdb.DuckDBPyConnection, sql: str, params: dict, *, memory: str,
                  otherwise: str) -> pa.Table:
    """Return the result of `sql` within the memory limit `memory` of `con`'s database. Not every
    operator can spill: a query that cannot finish within it runs again with the limit
    `otherwise`, then `memory` holds again (set as given: DuckDB reads its own rounded figure,
    7.6 MiB for 8MB, back as 7.5 MiB)."""
    try:
        return con.execute(sql, params).fetch_arrow_table()
    except duckdb.OutOfMemoryException:
        con.execute("SET memory_limit = ?", [otherwise])
        try:
            return con.execute(sql, params).fetch_arrow_table()
        finally:
            con.execute("SET memory_limit = ?", [memory])


def compute_aggregates(warehouse: Warehouse, staging: Staging, *, model: str) -> dict[str, int]:
    """Stage the aggregate tables over stored plus staged rows; return their row counts."""
    counts = {}
    with _connect(warehouse, read_only=True) as con, \
            _memory_limit(con, AGGREGATE_MEMORY) as unlimited:
        _register_staged(con, staging)
        if aggregate_model(con) not in (None, model):
            con.execute(load_sql("aggregate_model_switch"), {"model": model})
            con.execute("CREATE OR REPLACE TEMP TABLE dirty_entities AS "
                        "SELECT entity_id FROM remapped_entities")
        for name in ("dirty_entities", "remapped_entities"):
            staging.write(name, con.execute(
                f"SELECT entity_id FROM {name} ORDER BY ALL").fetch_arrow_table())
        for name in AGGREGATES:
            table = _fetch_within(con, load_sql(f"aggregate_{name}"), {"model": model},
                                  memory=AGGREGATE_MEMORY, otherwise=unlimited)
            staging.write(name, table.cast(arrow_schema(name)))
            counts[name] = table.num_rows
    return counts


@dataclass
class Committed:
    """What a commit did: whether anything changed, the lake partitions it touched, and how long
    it held the file for writing (readers wait that long at most)."""

    changed: bool
    dirty: dict[str, set[str] | None]
    write_seconds: float = 0.0


# A commit leaves its changes in DuckDB's log (newsner.duckdb.wal) until the log reaches this
# size, then folds them into the file. Folding them in (a checkpoint) rewrites the indexes of every
# table a run touched: half a second for a one-article run into 12,000 articles, growing with the
# warehouse. A reader replays the log when it opens the file: about 40 ms a megabyte.
WAL_LIMIT = 4 * 2**20


def _wal_bytes(warehouse: Warehouse) -> int:
    try:
        return warehouse.db_path.with_name(warehouse.db_path.name + ".wal").stat().st_size
    except OSError:
        return 0


def _empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(f"SELECT NOT EXISTS (FROM {_checked(table)})").fetchone()[0]


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]


def commit_run(warehouse: Warehouse, staging: Staging, run: dict) -> Committed:
    """Move a staged run into DuckDB in one transaction and record it in `runs`.

    Nothing changes (not even `runs`) when the run brings nothing new.
    """
    dirty: dict[str, set[str] | None] = {}
    opened = None
    with _connect(warehouse, read_only=False) as con:
        opened = time.perf_counter()
        con.begin()
        fault_point("commit:begin")
        try:
            changed = 0
            for name in STORED:
                _staged_view(con, "incoming", staging, name)
                added = con.execute(
                    f"INSERT OR IGNORE INTO {_checked(name)} BY NAME SELECT * FROM incoming"
                ).fetchone()[0]
                if added:
                    dirty[name] = (touched_partitions(con, name, "incoming")
                                   if name in LAKE else EVERYTHING)
                changed += added
                fault_point("commit:stored")
            _staged_view(con, "incoming", staging, "name_forms")
            if added := con.execute(load_sql("add_name_forms")).fetchone()[0]:
                dirty["name_forms"] = touched_partitions(con, "name_forms", "incoming")
            changed += added
            fault_point("commit:name-forms")
            _staged_view(con, "incoming", staging, "sources")
            if added := run_script(con, load_sql("update_sources"), {"run_id": run["run_id"]})[0][0]:
                dirty["sources"] = EVERYTHING
            changed += added
            fault_point("commit:sources")
            for path in staging.parts("meta_done"):  # flags a stage has finished with
                for key in pq.read_table(path).column("key").to_pylist():
                    if con.execute("DELETE FROM meta WHERE key = ?", [key]).fetchone()[0]:
                        dirty["meta"] = EVERYTHING
                        changed += 1
            for name in ("dirty", "remapped"):
                _load_temp(con, name, staging.read(f"{name}_entities", table="entity_keys")
                           .select(["entity_id"]))
            for name in REPLACED:
                # the run's rows replace the table's rows in scope; only those that differ are
                # written: rows gone (or changed) are deleted by their key, new ones inserted
                scope = SCOPES.get(name, "entity_id IN (SELECT entity_id FROM dirty)")
                _staged_view(con, "staged_replacement", staging, name)
                if _empty(con, name):  # a new warehouse: every staged row comes, none goes
                    if differ := _count(con, "staged_replacement"):
                        dirty[name] = touched_partitions(con, name, "staged_replacement")
                        con.execute(f"INSERT INTO {_checked(name)} BY NAME "
                                    "SELECT * FROM staged_replacement")
                    changed += differ
                    fault_point("commit:replaced")
                    continue
                con.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT * FROM staged_replacement")
                con.execute(f"CREATE OR REPLACE TEMP TABLE gone AS (FROM {_checked(name)} "
                            f"WHERE {scope}) EXCEPT ALL (FROM staged)")
                con.execute(f"CREATE OR REPLACE TEMP TABLE came AS (FROM staged) EXCEPT ALL "
                            f"(FROM {_checked(name)} WHERE {scope})")
                differ = _count(con, "gone") + _count(con, "came")
                if differ:
                    con.execute("CREATE OR REPLACE TEMP TABLE difference AS "
                                "FROM gone UNION ALL FROM came")
                    dirty[name] = touched_partitions(con, name, "difference")
                    same = " AND ".join(f"g.{c} IS NOT DISTINCT FROM {name}.{c}"
                                        for c in ROW_KEYS[name])
                    con.execute(f"DELETE FROM {_checked(name)} WHERE EXISTS "
                                f"(SELECT 1 FROM gone AS g WHERE {same})")
                    con.execute(f"INSERT INTO {_checked(name)} BY NAME SELECT * FROM came")
                changed += differ
                fault_point("commit:replaced")
            con.execute("CREATE OR REPLACE TEMP TABLE remapped_mentions AS SELECT m.* FROM mentions "
                        "AS m JOIN entity_keys AS k USING (key) WHERE m.entity_id <> k.entity_id")
            if con.execute("SELECT count(*) FROM remapped_mentions").fetchone()[0]:
                dirty["mentions"] = dirty.get("mentions", set()) | touched_partitions(
                    con, "mentions", "remapped_mentions")
                changed += con.execute(load_sql("apply_entity_keys")).fetchone()[0]
            fault_point("commit:keys-applied")
            if aggregate_model(con) != run["model"]:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('aggregate_model', ?)",
                            [run["model"]])
                dirty["meta"] = EVERYTHING
                changed += 1
            if changed:
                con.register("run_row", to_arrow("runs", [run]))
                con.execute("INSERT INTO runs BY NAME SELECT * FROM run_row")
                dirty["runs"] = EVERYTHING
                note_pending_export(warehouse, dirty)  # a kill before the export ends: redone
                fault_point("commit:before-commit")
                con.commit()
                fault_point("commit:committed")
                if _wal_bytes(warehouse) < WAL_LIMIT:
                    con.execute("PRAGMA disable_checkpoint_on_shutdown")
            else:
                con.rollback()
        except BaseException:
            with suppress(duckdb.Error):  # a failed COMMIT has ended the transaction already;
                con.rollback()            # the error that ended it is the one to report
            raise
    write_seconds = time.perf_counter() - opened  # from opening to closing, checkpoint included
    shutil.rmtree(staging.root, ignore_errors=True)
    with suppress(OSError):
        staging.root.parent.rmdir()  # .staging itself, once no run uses it
    return Committed(bool(changed), dirty if changed else {}, round(write_seconds, 3))


# The Parquet lake: warehouse/parquet/<table>/, in hive layout. Tables that grow with the news are
# split by the month of their articles (month=YYYY-MM, month=undated) or, for entity-keyed
# aggregates, by a stable hash bucket (bucket=0 ... bucket=f); the small ones are one file each.
# A run rewrites only the partitions its rows touch. Each entry: (hive column, the partition of a
# row `t`, whose article, where it has one, is `a`).
_MONTH = "coalesce(strftime({}, '%Y-%m'), 'undated')"
_BUCKET = "substr(md5({}), 1, 1)"
_OF_ARTICLE = ("month", _MONTH.format("a.published_at"))
LAKE = {
    "articles": ("month", _MONTH.format("t.published_at")),
    "mentions": _OF_ARTICLE, "sentences": _OF_ARTICLE, "acronyms": _OF_ARTICLE,
    "mention_places": _OF_ARTICLE, "article_focus": _OF_ARTICLE, "quotes": _OF_ARTICLE,
    "mention_tones": _OF_ARTICLE,
    "story_signatures": _OF_ARTICLE, "story_bands": _OF_ARTICLE,
    "entity_daily": ("month", _MONTH.format("t.day")),
    "entity_weekly": ("month", _MONTH.format("t.week")),
    "entities": ("bucket", _BUCKET.format("t.entity_id")),
    "entity_aliases": ("bucket", _BUCKET.format("t.entity_id")),
    "entity_keys": ("bucket", _BUCKET.format("t.key")),
    "cooccurrence": ("bucket", _BUCKET.format("t.entity_a")),
    "name_forms": ("bucket", _BUCKET.format("t.form")),
}
EVERYTHING = None  # a table changed as a whole (or not partitioned)
LAKE_MARK = "_schema_version"
LAKE_PENDING = "_pending.json"  # partitions committed but not yet exported (a run was stopped)


def _pending(root: Path) -> dict[str, set[str] | None]:
    try:
        saved = json.loads((root / LAKE_PENDING).read_text())
    except (OSError, ValueError):
        return {}
    return {name: None if values is None else set(values) for name, values in saved.items()}


def _merge_dirty(a: dict[str, set[str] | None], b: dict[str, set[str] | None],
                 ) -> dict[str, set[str] | None]:
    out = dict(a)
    for name, values in b.items():
        out[name] = (EVERYTHING if values is EVERYTHING or (name in out and out[name] is EVERYTHING)
                     else out.get(name, set()) | values)
    return out


def note_pending_export(warehouse: Warehouse, dirty: dict[str, set[str] | None]) -> None:
    """Record, before a commit, the lake partitions it will change: an export stopped half-way
    (or never started) is completed by the next run, even one that brings nothing new."""
    root = warehouse.parquet_dir
    if not root.exists():
        return  # no lake yet: the next export writes it whole
    pending = _merge_dirty(_pending(root), dirty)
    tmp = root / f".{LAKE_PENDING}.tmp"
    tmp.write_text(json.dumps({k: None if v is None else sorted(v) for k, v in pending.items()}))
    os.replace(tmp, root / LAKE_PENDING)


def lake_needs_export(warehouse: Warehouse) -> bool:
    """True when the lake is missing or a stopped run left partitions to export."""
    root = warehouse.parquet_dir
    return not (root / LAKE_MARK).exists() or (root / LAKE_PENDING).exists()


def _with_partition(table: str, rows: str = "") -> str:
    """Return SQL selecting `rows` (a relation; default the table itself) of `table` with the
    lake partition column added."""
    column, expression = LAKE[table]
    article = " LEFT JOIN articles AS a USING (article_id)" if "a." in expression else ""
    return f"SELECT t.*, {expression} AS {column} FROM {rows or _checked(table)} AS t{article}"


def touched_partitions(con: duckdb.DuckDBPyConnection, table: str, rows: str) -> set[str]:
    """Return the lake partitions of `table` that the rows of relation `rows` fall in."""
    column = LAKE[table][0]
    return {r[0] for r in con.execute(
        f"SELECT DISTINCT {column} FROM ({_with_partition(table, rows)})").fetchall()}


def _write_atomically(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)  # readers see the old file or the new one, never half of one


EXPORT_BATCH = 200_000  # rows a lake export holds at a time, per table
EXPORT_THREADS = 2  # tables exported at once
EXPORT_ORDER = ("cooccurrence", "mentions", "mention_tones", "articles", "sentences",
                "entity_daily", "entity_weekly", "name_forms", "entity_aliases", "entities",
                "entity_keys", "mention_places", "quotes")


class _PartitionFile:
    """One lake partition being written: to a temporary name, moved into place when complete, so
    readers see the old file or the new one, never half of one."""

    def __init__(self, folder: Path, value: str, schema: pa.Schema):
        self.target = folder / f"{value}" / "part-0.parquet"
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.target.with_name(f".{self.target.name}.tmp")
        self.writer = pq.ParquetWriter(self.tmp, schema)

    def finish(self) -> Path:
        self.writer.close()
        os.replace(self.tmp, self.target)
        fault_point("export:partition")
        return self.target

    def abandon(self) -> None:
        with suppress(OSError):
            self.writer.close()
            self.tmp.unlink()


def _write_partitions(con: duckdb.DuckDBPyConnection, name: str, values: list[str] | None,
                      folder: Path) -> list[Path]:
    """Write the lake files of partitions `values` (None: every one) of table `name` from one
    scan in partition order, EXPORT_BATCH rows at a time; a partition without rows loses its
    file. Return the files written or removed."""
    import pyarrow.compute as pc

    column = LAKE[name][0]
    if values is None:  # every partition: those with rows, and those of files without any now
        where, params = "", None
        values = [p.name.split("=", 1)[1] for p in folder.glob(f"{column}=*")]
    else:
        where, params = f"WHERE {column} IN (SELECT unnest($values))", {"values": values}
    reader = con.execute(f"SELECT * FROM ({_with_partition(name)}) {where} ORDER BY {column}",
                         params).fetch_record_batch(EXPORT_BATCH)
    done: dict[str, Path] = {}
    current: _PartitionFile | None = None
    try:
        for batch in reader:
            rows = pa.Table.from_batches([batch])
            runs = pc.value_counts(rows[column])  # in order: the rows come sorted
            rows = rows.drop_columns([column])
            offset = 0
            for value, count in zip(runs.field("values").to_pylist(),
                                    runs.field("counts").to_pylist(), strict=True):
                key = f"{column}={value}"
                if current is None or current.target.parent.name != key:
                    if current is not None:
                        done[current.target.parent.name] = current.finish()
                    current = _PartitionFile(folder, key, rows.schema)
                current.writer.write_table(rows.slice(offset, count))
                offset += count
        if current is not None:
            done[current.target.parent.name] = current.finish()
            current = None
    finally:
        if current is not None:
            current.abandon()
    for value in values:
        if f"{column}={value}" not in done:
            target = folder / f"{column}={value}" / "part-0.parquet"
            if target.exists():
                target.unlink()
                with suppress(OSError):
                    target.parent.rmdir()
            done[f"{column}={value}"] = target
    return list(done.values())


def export_parquet(warehouse: Warehouse, dirty: dict[str, set[str] | None] | None = None,
                   ) -> list[Path]:
    """Bring warehouse/parquet/ up to date with DuckDB: every table when `dirty` is None (or the
    lake is missing or of another schema version), else only the partitions `dirty` names (table
    -> partition values, or EVERYTHING). Return the files written or removed."""
    root = warehouse.parquet_dir
    mark = root / LAKE_MARK
    current = str(schema_version())
    if dirty is not None and not (mark.exists() and mark.read_text() == current):
        dirty = None  # a new lake, or one written before a migration: write it all
    if dirty is not None:
        dirty = _merge_dirty(dirty, _pending(root))
    names = [name for name in table_names() if dirty is None or name in dirty]
    with _connect(warehouse, read_only=True) as con:

        def export(name: str) -> list[Path]:
            with con.cursor() as cursor:  # each thread its own: DuckDB scans them in parallel
                if name not in LAKE:
                    target = root / name / "part-0.parquet"
                    _write_atomically(cursor.execute(f"SELECT * FROM {name}").fetch_arrow_table(),
                                      target)
                    return [target]
                wanted = dirty.get(name) if dirty is not None else EVERYTHING
                return _write_partitions(cursor, name, None if wanted is EVERYTHING else
                                         sorted(wanted), root / name)

        # the largest tables first, so the threads end together; Parquet encoding and DuckDB's
        # scans release the GIL
        names.sort(key=lambda name: EXPORT_ORDER.index(name) if name in EXPORT_ORDER else 99)
        with ThreadPoolExecutor(EXPORT_THREADS, thread_name_prefix="newsner-export") as pool:
            touched = [path for paths in pool.map(export, names) for path in paths]
    root.mkdir(parents=True, exist_ok=True)
    if dirty is None or not mark.exists():
        mark.write_text(current)
    (root / LAKE_PENDING).unlink(missing_ok=True)
    fault_point("export:done")
    return touched


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
