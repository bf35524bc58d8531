"""The `newsner` command: run the pipeline, query the warehouse."""

from __future__ import annotations

import argparse
import csv
import errno
import gc
import os
import re
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INPUT = "seeds"
COLUMN_FIELDS = ("text", "title", "url", "source", "published", "authors", "id", "description",
                 "language")


def format_table(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    """Return rows as an aligned plain-text table with a header line."""
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    """Return the short, human-readable account of one run."""
    rejects = ", ".join(f"{n} {reason}" for reason, n in summary["rejects_by_reason"].items())
    lines = [
        f"newsner run {summary['run_id']} ({summary['model']} {summary['model_version']})",
        f"  articles: {summary['n_inputs']} read, {summary['n_new_articles']} new, "
        f"{summary['n_duplicates']} duplicates, {summary['n_other_language']} not in the "
        "model's language (stored, no NER)",
        f"  mentions: {summary['n_mentions']} new",
        f"  rejects:  {summary['n_rejects']}" + (f" ({rejects})" if rejects else ""),
    ]
    if summary.get("n_place_names"):
        stored = summary.get("n_backfilled", 0)
        lines.insert(3, f"  places:   {summary['n_placed']} of {summary['n_place_names']} place names "
                        f"resolved to a GeoNames place" + (f" ({stored} stored articles placed "
                                                          "for the first time)" if stored else ""))
    if summary["changed"]:
        lines.append(f"  commit:   the warehouse was held for writing "
                     f"{summary['stage_seconds'].get('write_window', 0):.2f} s (readers wait)")
    else:
        lines.append("  nothing new: the warehouse is unchanged")
    lines += ["", "top entities in the warehouse:"]
    top = summary["top_entities"]
    if top:
        columns = ["name", "label", "n_mentions", "n_articles"]
        lines.append(format_table(columns, [[e[c] for c in columns] for e in top]))
    else:
        lines.append("  (none yet)")
    return "\n".join(lines)


def _prefect_environment() -> None:
    """Before Prefect is imported: no telemetry, no update checks, the project's Prefect home when
    the command runs in a project that has one, and time enough for a fresh home to start a
    server; the user's own settings win."""
    from flows.server import START_TIMEOUT, prefect_home

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_HOME", str(prefect_home()))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(int(START_TIMEOUT)))


@dataclass(frozen=True)
class Api:
    """The Prefect server a command uses: where, a line saying which, and whether it started it."""

    url: str
    note: str
    started: bool = False

    def wait(self) -> None:
        """Return when the server answers: a server this command started may take minutes (a
        fresh Prefect home on a busy machine); one already running gets a few seconds."""
        from flows.server import START_TIMEOUT, ServerError, healthy

        timeout = START_TIMEOUT if self.started else 15.0
        deadline = time.monotonic() + timeout
        while not healthy(self.url, timeout=2):
            if time.monotonic() > deadline:
                raise ServerError(f"no Prefect server answers at {self.url} after {timeout:g} s: "
                                  "start it, or unset PREFECT_API_URL to let newsner start one")
            time.sleep(0.2)


@contextmanager
def prefect_api() -> Iterator[Api]:
    """Point Prefect at a server for this command: PREFECT_API_URL when set, the project's server
    when one runs, else a temporary server started now, which comes up while the command loads
    and stops when it ends."""
    from flows.server import prefect_home, project_server, start_server

    _prefect_environment()
    if os.environ.get("PREFECT_API_URL"):
        yield Api(os.environ["PREFECT_API_URL"],
                  f"Prefect: {os.environ['PREFECT_API_URL']} (PREFECT_API_URL)")
        return
    home = prefect_home()
    if url := project_server(home):
        os.environ["PREFECT_API_URL"] = url
        yield Api(url, f"Prefect: the project's server, {url.removesuffix('/api')} "
                       "(runs show in its UI)")
        return
    server = start_server(home, ui=False, services=False)
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield Api(server.api_url, "Prefect: a temporary server for this run (`make ui` keeps the "
                                  "project's server running: faster runs, and every run in its UI)",
                  started=True)
    finally:
        drain_prefect()
        server.stop()
        os.environ.pop("PREFECT_API_URL", None)


def drain_prefect(timeout: float = 10) -> None:
    """Send the logs and events Prefect still holds, before the server they go to stops."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


def _overrides(args: argparse.Namespace) -> dict:
    """Return the settings the command line gives (--warehouse, --model), to override defaults."""
    return {k: v for k, v in (("warehouse", args.warehouse), ("model", args.model)) if v}


def run_settings(args: argparse.Namespace):
    """Return the run's settings: the environment's, overridden by the command line."""
    from tasks.settings import Settings

    overrides = _overrides(args)
    columns = {f: getattr(args, f"{f}_column") for f in COLUMN_FIELDS if getattr(args, f"{f}_column")}
    if columns:
        overrides["csv_columns"] = columns
    if args.fetch_linked is not None:
        overrides["fetch_linked"] = args.fetch_linked
    if args.dask:
        overrides["dask_address"] = args.dask
    if args.full:
        overrides["full"] = True
    if args.allow_private_network:
        overrides["allow_private_network"] = True
    for name in ("aliases", "patterns"):
        if getattr(args, name):
            overrides[name] = Path(getattr(args, name))
    return Settings(**overrides)


def check_run(settings, paths: Sequence[str]) -> None:
    """Raise the one-line error of a user mistake (a path, the model, a user file, a warehouse
    another run holds) before any work starts."""
    from tasks.ner import resolve_model
    from tasks.sources import discover
    from tasks.userfiles import read_alias_file, read_pattern_file
    from tasks.warehouse import Warehouse, ensure_unlocked

    discover(paths)
    resolve_model(settings.model)
    if settings.aliases:
        read_alias_file(settings.aliases)
    if settings.patterns:
        read_pattern_file(settings.patterns)
    ensure_unlocked(Warehouse(Path(settings.warehouse)))


def cmd_run(args: argparse.Namespace) -> int:
    from tasks.clean import preload_language_identifier
    from tasks.workers import start_workers

    settings = run_settings(args)
    paths = args.paths or [DEFAULT_INPUT]
    check_run(settings, paths)
    with prefect_api() as api:  # first: a temporary server starts on the run's critical path
        preload_language_identifier()  # while Prefect is imported and its server comes up
        n_bytes = start_workers(settings, paths)  # they load the pipeline meanwhile, elsewhere
        from flows.pipeline import with_runner

        api.wait()
        with heartbeats(n_bytes, temporary_server=api.started):
            summary = with_runner(settings)(paths, settings)
    print(format_summary(summary))
    print(api.note)
    # The process ends now: the objects it made (Prefect's models and schemas, mostly) are left
    # out of the interpreter's last garbage collections, which took 0.4 s. What must happen at
    # exit (Prefect's logs and events sent, the worker pool joined, files and connections
    # closed) is done by atexit handlers and explicit closes, never by collecting cycles.
    gc.freeze()
    return 0


def heartbeats(n_bytes: int, *, temporary_server: bool = False):
    """The Prefect settings of a run reading `n_bytes`: a small run (seconds), or one whose
    server is its own temporary one, sends no heartbeats. Heartbeats let a server that outlives
    the run mark a run that died unseen as crashed; a temporary server ends with its run, and
    Prefect's engine waits up to a second for its heartbeat thread when a run ends, a fifth of a
    one-article run. Larger runs on the project's server (or PREFECT_API_URL's), and every run
    `newsner serve` starts, send them."""
    from contextlib import nullcontext

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from tasks.workers import SMALL_RUN_BYTES

    if n_bytes >= SMALL_RUN_BYTES and not temporary_server:
        return nullcontext()
    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def cmd_ui(args: argparse.Namespace) -> int:
    from flows.server import ServerError, port_taken, prefect_home, project_server, start_server

    _prefect_environment()
    home = prefect_home()
    if url := project_server(home):
        print(f"the project's Prefect server already runs: {url.removesuffix('/api')}")
        return 0
    if port_taken(args.port):
        raise ServerError(f"port {args.port} is taken: stop what uses it or pass --port")
    server = start_server(home, port=args.port, record=True, log=home / "server.log")
    try:
        server.wait_until_up()
        print(f"Prefect UI: {server.api_url.removesuffix('/api')} (Prefect home {home}); "
              "`newsner run` and `newsner serve` report to it; Ctrl-C stops it", flush=True)
        _wait_for_signal()
    finally:
        server.stop()
    return 0


def _wait_for_signal() -> None:
    """Sleep until SIGINT or SIGTERM."""
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    while not stop:
        time.sleep(0.2)


@contextmanager
def serving_api(port: int) -> Iterator[Api]:
    """Point Prefect at a server that schedules: PREFECT_API_URL when set, the project's server
    when one runs, else the project's server started now (UI and scheduler) for as long as the
    command serves."""
    from flows.server import port_taken, prefect_home, project_server, start_server

    _prefect_environment()
    if os.environ.get("PREFECT_API_URL"):
        yield Api(os.environ["PREFECT_API_URL"], "PREFECT_API_URL")
        return
    home = prefect_home()
    if url := project_server(home):
        os.environ["PREFECT_API_URL"] = url
        yield Api(url, "the project's server")
        return
    server = start_server(home, port=None if port_taken(port) else port, record=True,
                          log=home / "server.log")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield Api(server.api_url, "the project's server, started for as long as this serves",
                  started=True)
    finally:
        drain_prefect()
        server.stop()
        os.environ.pop("PREFECT_API_URL", None)


def cmd_serve(args: argparse.Namespace) -> int:
    from tasks.settings import Settings

    settings = Settings(**_overrides(args))
    paths = args.paths or [DEFAULT_INPUT]
    check_run(settings, paths)
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "5")  # scheduled runs start promptly
    signal.signal(signal.SIGINT, _stop_serving)
    with serving_api(args.ui_port) as api:
        from flows.pipeline import newsner_run

        api.wait()
        print(f"serving deployment newsner-run/{args.name}: "
              + (f"cron {args.cron!r}" if args.cron else f"every {args.interval:g} s")
              + f" on {', '.join(map(str, paths))}; runs in the Prefect UI at "
              f"{api.url.removesuffix('/api')} ({api.note}); Ctrl-C stops it", flush=True)
        newsner_run.serve(
            name=args.name, cron=args.cron, interval=args.interval if not args.cron else None,
            parameters={"paths": [str(p) for p in paths],
                        "settings": settings.model_dump(mode="json")},
            global_limit=1, limit=1, print_starting_message=False)
    print("stopped serving", flush=True)
    return 0


# Seconds `newsner serve` has to stop by itself after Ctrl-C or SIGTERM before it ends what it started.
STOP_GRACE = 30.0


def _stop_serving(signum, frame) -> None:
    """Ctrl-C while serving: stop the way SIGTERM does once Prefect's runner is up (it cancels the
    run in flight and returns), as KeyboardInterrupt before; either way, never hang."""
    from flows.server import exit_when_stuck

    exit_when_stuck(signum, STOP_GRACE)
    if getattr(signal.getsignal(signal.SIGTERM), "__name__", "") == "handle_sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    else:
        raise KeyboardInterrupt


def cmd_migrate(args: argparse.Namespace) -> int:
    from tasks.errors import WarehouseError
    from tasks.warehouse import migrate, pending_migrations

    warehouse = _warehouse(args)
    if not warehouse.exists():
        raise WarehouseError(f"no warehouse at {warehouse.db_path}: nothing to migrate")
    pending = pending_migrations(warehouse)
    if not pending:
        print(f"{warehouse.db_path} is at the current schema version: nothing to do")
        return 0
    steps = "\n".join(f"  {m.name}: {m.summary}" for m in pending)
    if args.dry_run:
        print(f"{warehouse.db_path} would move from schema version {pending[0].version - 1} to "
              f"{pending[-1].version}, keeping every row:\n{steps}")
        return 0
    from tasks.warehouse import ensure_unlocked, writer_lock

    ensure_unlocked(warehouse)
    with writer_lock(warehouse):
        applied, backup = migrate(warehouse)
    print(f"{warehouse.db_path} upgraded to schema version {applied[-1].version}:\n{steps}\n"
          f"the old file is kept as {backup}")
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from tasks.errors import WarehouseError
    from tasks.ner import resolve_model
    from tasks.settings import Settings

    settings = Settings(**_overrides(args))
    resolve_model(settings.model)
    if not (Path(settings.warehouse) / "newsner.duckdb").exists():
        raise WarehouseError(f"no warehouse at {settings.warehouse}: run `newsner run` first")
    with prefect_api() as api:
        from flows.pipeline import newsner_reprocess

        api.wait()
        summary = newsner_reprocess(settings)
    print(f"reprocessed {summary['n_inputs']} stored articles with {summary['model']} "
          f"{summary['model_version']}: {summary['n_mentions']} mentions; the aggregates now "
          f"count {summary['model']}'s mentions")
    return 0


def _warehouse(args: argparse.Namespace):
    from tasks.settings import Settings
    from tasks.warehouse import Warehouse

    settings = Settings()
    return Warehouse(Path(args.warehouse) if args.warehouse else settings.warehouse,
                     settings.lock_wait)


def _print_rows(columns: Sequence[str], rows: Sequence[Sequence], *, as_csv: bool) -> None:
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif columns:
        print(format_table(columns, rows))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def cmd_sql(args: argparse.Namespace) -> int:
    from tasks.errors import InputError
    from tasks.warehouse import query

    if args.file:
        try:
            sql = Path(args.file).read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot read query file {args.file}: {err.strerror}") from None
    elif args.query:
        sql = args.query
    else:
        raise InputError("give a QUERY or --file FILE.sql")
    columns, rows = query(_warehouse(args), sql)
    _print_rows(columns, rows, as_csv=args.csv)
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    from tasks.warehouse import load_sql, query

    label = args.label.upper() if args.label else None
    columns, rows = query(_warehouse(args), load_sql("top"),
                          {"label": label, "limit": args.limit})
    _print_rows(columns, rows, as_csv=args.csv)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from tasks.errors import WarehouseError
    from tasks.report import write_report

    warehouse = _warehouse(args)
    if not warehouse.exists():
        raise WarehouseError(f"no warehouse at {warehouse.db_path}: run `newsner run` first")
    output = write_report(warehouse, Path(args.output))
    print(f"report written to {output} (open it in a browser; it needs no network)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline on files, directories or URLs")
    run.add_argument("paths", nargs="*", metavar="PATH",
                     help=f"files, directories, URL-list files or http(s) URLs "
                          f"(default: {DEFAULT_INPUT}/)")
    run.add_argument("--warehouse", metavar="DIR", help="warehouse folder (default: warehouse/)")
    run.add_argument("--model", metavar="NAME", help="installed spaCy pipeline (en_core_web_sm)")
    for field in COLUMN_FIELDS:
        run.add_argument(f"--{field}-column", metavar="COL",
                         help=f"CSV/JSONL column holding the article's {field} (default: {field})")
    run.add_argument("--aliases", metavar="FILE",
                     help="CSV of known entities: name,label,aliases (see examples/aliases.csv)")
    run.add_argument("--patterns", metavar="FILE",
                     help="JSONL of spaCy entity-ruler patterns (see examples/patterns.jsonl)")
    run.add_argument("--dask", metavar="ADDRESS",
                     help="run NER on this Dask scheduler's workers, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--fetch-linked", action=argparse.BooleanOptionalAction, default=None,
                     help="fetch the page of feed items that carry only a summary "
                          "(default: for URL feeds only)")
    run.add_argument("--full", action="store_true",
                     help="read every input again, also the files unchanged since the last run")
    run.add_argument("--allow-private-network", action="store_true",
                     help="also fetch URLs on this machine or a private network "
                          "(refused by default as blocked_address)")
    run.set_defaults(func=cmd_run)

    sql = sub.add_parser("sql", help="run one read-only SQL query on the warehouse")
    sql.add_argument("query", metavar="QUERY", nargs="?")
    sql.add_argument("--file", metavar="FILE.sql", help="run the query in this file "
                     "(examples in warehouse/queries/)")
    sql.add_argument("--warehouse", metavar="DIR")
    sql.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sql.set_defaults(func=cmd_sql)

    top = sub.add_parser("top", help="the most mentioned entities")
    top.add_argument("--label", metavar="L", help="only this label, e.g. PERSON, ORG, GPE")
    top.add_argument("--limit", metavar="N", type=int, default=20)
    top.add_argument("--warehouse", metavar="DIR")
    top.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    top.set_defaults(func=cmd_top)

    serve = sub.add_parser("serve", help="serve the flow on a schedule (runs never overlap)")
    serve.add_argument("paths", nargs="*", metavar="PATH", help="watched folders, files or URLs")
    when = serve.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='e.g. "*/15 * * * *"')
    when.add_argument("--interval", metavar="SECONDS", type=float)
    serve.add_argument("--name", default="scheduled", help="deployment name (default: scheduled)")
    serve.add_argument("--ui-port", type=int, default=4200,
                       help="port of the project's Prefect server when serve starts it "
                            "(default: 4200, else a free one)")
    serve.add_argument("--warehouse", metavar="DIR")
    serve.add_argument("--model", metavar="NAME")
    serve.set_defaults(func=cmd_serve)

    again = sub.add_parser("reprocess", help="run NER again on stored articles with another model")
    again.add_argument("--model", metavar="NAME", required=True,
                       help="installed spaCy pipeline; its mentions are kept beside the others'")
    again.add_argument("--warehouse", metavar="DIR")
    again.set_defaults(func=cmd_reprocess)

    ui = sub.add_parser("ui", help="start the project's Prefect server and UI (what `make ui` runs)")
    ui.add_argument("--port", type=int, default=4200, help="port on 127.0.0.1 (default: 4200)")
    ui.set_defaults(func=cmd_ui)

    upgrade = sub.add_parser("migrate", help="upgrade an older warehouse to this newsner's schema")
    upgrade.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    upgrade.add_argument("--warehouse", metavar="DIR")
    upgrade.set_defaults(func=cmd_migrate)

    report = sub.add_parser("report", help="write a self-contained HTML report with charts")
    report.add_argument("--warehouse", metavar="DIR")
    report.add_argument("--output", metavar="FILE", default="warehouse/report.html",
                        help="where to write it (default: warehouse/report.html)")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsner` console script; returns the exit status."""
    from pydantic import ValidationError

    from flows.server import ServerError
    from tasks.errors import InputError, ModelError, UserFileError, WarehouseError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, ModelError, UserFileError, WarehouseError, ServerError) as err:
        print(f"newsner: error: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(map(str, first["loc"]))
        print(f"newsner: error: setting {where}: {first['msg']}", file=sys.stderr)
        return 2
    except BaseException as err:
        if stopped(err):
            print("newsner: stopped by a signal; the warehouse keeps its last complete run, and "
                  "the next run does the rest of this one's work", file=sys.stderr)
            return 128 + signal.SIGTERM if not isinstance(err, KeyboardInterrupt) else 130
        if not disk_full(err):
            raise
        print(f"newsner: error: no room to write ({err_text(err)}): free disk space (or raise "
              "the file-size limit) and run again; the warehouse keeps its last complete run",
              file=sys.stderr)
        return 1


def _chain(err: BaseException | None) -> Iterator[BaseException]:
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__


_SIGNALLED = re.compile(r"\b(?:TerminationSignal|KeyboardInterrupt): ")


def stopped(err: BaseException) -> bool:
    """True when `err` comes from Ctrl-C or SIGTERM. Prefect raises TerminationSignal for it; a
    DuckDB query it lands in reports 'Query interrupted', or, when the signal's handler ran in
    Python code DuckDB called (an Arrow scan), an error whose text names the exception."""
    import duckdb

    return any(isinstance(e, KeyboardInterrupt) or type(e).__name__ == "TerminationSignal"
               or str(e) == "Query interrupted"
               or isinstance(e, duckdb.Error) and _SIGNALLED.search(str(e).split("\n")[0])
               for e in _chain(err))


_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def disk_full(err: BaseException) -> bool:
    """True when `err` (or what caused it) says the disk, a quota or a file-size limit is full."""
    return any(isinstance(e, OSError) and e.errno in _DISK_FULL
               or any(os.strerror(code) in str(e) for code in _DISK_FULL)  # DuckDB's, Arrow's
               for e in _chain(err))


def err_text(err: BaseException) -> str:
    return " ".join(str(err).split())[:200]


if __name__ == "__main__":
    sys.exit(main())
