"""Crash safety: runs stopped at named moments (tasks/faults.py), by SIGTERM and by a full disk.

Each stopped run must leave the warehouse exactly as it was before the run (stopped before the
commit) or exactly as a complete run leaves it (stopped after), every table compared, the lake
included; the next run must then finish the work and give what an uninterrupted run gives.

`make test` kills at a fast subset of the moments; NEWSNER_KILL_ALL=1 kills at every one.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tasks.faults import MOMENTS
from tasks.warehouse import Warehouse, ensure_unlocked, table_names
from tests.conftest import ROOT, SEEDS
from tests.test_pipeline import assert_lake_equals_tables

pytestmark = pytest.mark.slow

FAST = ("chunk:half-staged@2", "commit:stored@3", "commit:replaced@2", "commit:before-commit",
        "commit:committed", "export:partition@5")
WANTED = MOMENTS if os.environ.get("NEWSNER_KILL_ALL") else FAST
VOLATILE = {"run_id", "read_at"}  # which run wrote a row, and when: differ between runs
CHUNK = "4"  # the seeds are 11 articles: three chunks


def state(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's rows (without the columns that name the run), and the number of runs."""
    out: dict[str, list] = {}
    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        for table in table_names():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall() if c not in VOLATILE]
            if table == "runs":
                out[table] = con.execute("SELECT count(*) FROM runs").fetchall()
                continue
            out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
                                     ).fetchall()
    return out


def newsner_run(inputs: Path | list[Path], warehouse: Path, server: str, *,
                fault: str | None = None, preexec=None, timeout: float = 300,
                ) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": server, "NEWSNER_CHUNK_SIZE": CHUNK}
    env.pop("NEWSNER_FAULT", None)
    if fault:
        env["NEWSNER_FAULT"] = fault
    paths = [str(p) for p in (inputs if isinstance(inputs, list) else [inputs])]
    return subprocess.run([sys.executable, "-m", "flows.cli", "run", *paths, "--warehouse",
                           str(warehouse)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=preexec)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The seeds with two files that become rejects (so `rejects` changes too)."""
    folder = tmp_path_factory.mktemp("inputs") / "in"
    shutil.copytree(SEEDS, folder)
    (folder / "empty.txt").write_text("")
    (folder / "broken.txt").write_bytes(b"Kim \xff\xfe met Putin.")
    return folder


@pytest.fixture(scope="module")
def runs(prefect_server, inputs, tmp_path_factory):
    """(a warehouse holding four of the seeds, the state a complete run of all inputs leaves)."""
    base = tmp_path_factory.mktemp("faults")
    reference = base / "reference"
    assert newsner_run(inputs, reference, prefect_server).returncode == 0
    before = base / "before"
    first = sorted(inputs.glob("2025-*.txt"))[:4]
    assert newsner_run(first, before, prefect_server).returncode == 0
    return before, state(reference)


def _copy(warehouse: Path, to: Path) -> Path:
    shutil.copytree(warehouse, to)
    return to


@pytest.mark.parametrize("moment", WANTED)
def test_a_run_killed_at_a_moment_leaves_a_consistent_warehouse_and_the_next_run_completes(
        moment, runs, inputs, prefect_server, tmp_path):
    template, complete = runs
    warehouse = _copy(template, tmp_path / "w")
    before = state(warehouse)
    killed = newsner_run(inputs, warehouse, prefect_server, fault=moment)
    assert killed.returncode == -signal.SIGKILL, f"{moment} never reached: {killed.stderr[-2000:]}"
    after_kill = state(warehouse)
    committed = MOMENTS.index(moment.split("@")[0]) >= MOMENTS.index("commit:committed")
    if committed:
        assert after_kill == complete | {"runs": [(2,)]}, moment
    else:
        assert after_kill == before, moment
        assert_lake_equals_tables(warehouse)  # the lake still shows the last committed state

    finished = newsner_run(inputs, warehouse, prefect_server)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert state(warehouse) == complete | {"runs": [(2,)]}
    assert_lake_equals_tables(warehouse)  # an export the kill stopped is finished now
    assert not list((warehouse / ".staging").rglob("*.parquet"))
    ensure_unlocked(Warehouse(warehouse))


def test_sigterm_ends_the_run_as_a_crashed_flow_run_and_releases_the_lock(
        runs, inputs, prefect_server, tmp_path):
    template, complete = runs
    warehouse = _copy(template, tmp_path / "w")
    before = state(warehouse)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NEWSNER_CHUNK_SIZE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(inputs),
                             "--warehouse", str(warehouse)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not list((warehouse / ".staging").glob("*/articles/part-*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never staged a chunk"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=60)[0]
    # Prefect ends the process by the signal itself (-15) once it has marked the run crashed;
    # a signal landing inside a DuckDB query fails the run instead, and newsner says why (143)
    assert proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM), output[-3000:]
    last = output.strip().splitlines()[-1]
    assert ("aborted by a termination signal" in last if proc.returncode < 0 else
            last.startswith("newsner: stopped by a signal")), output[-3000:]
    assert state(warehouse) == before
    ensure_unlocked(Warehouse(warehouse))  # raises if the lock were still held

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    async def killed_state() -> str:  # the server is the session's: find this test's run
        async with get_client() as client:
            runs = await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=200)
            return next(r.state.type.value for r in runs
                        if str(warehouse) in json.dumps(r.parameters, default=str))

    import asyncio
    assert asyncio.run(killed_state()) in ("CRASHED", "CANCELLED", "FAILED")

    finished = newsner_run(inputs, warehouse, prefect_server)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert state(warehouse) == complete | {"runs": [(2,)]}
    assert_lake_equals_tables(warehouse)


@pytest.mark.parametrize("when", ["from the start", "commit:replaced@2", "commit:before-commit"])
def test_a_full_disk_fails_the_run_with_a_message_and_loses_nothing(
        when, runs, inputs, prefect_server, tmp_path, monkeypatch):
    template, complete = runs
    warehouse = _copy(template, tmp_path / "w")
    before = state(warehouse)
    preexec = None
    if when == "from the start":  # no file may grow past 16 KB: the run stops at its first
        # write beyond that (DuckDB's log of the warehouse, which a small warehouse lives in;
        # 1 MB, this limit before, was reached only by a temporary file of the language
        # identifier, which runs no longer write)
        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (2**14, 2**14))
    else:
        monkeypatch.setenv("NEWSNER_FAULT_ACTION", "disk-full")
    full = newsner_run(inputs, warehouse, prefect_server, preexec=preexec,
                       fault=None if preexec else when)
    assert full.returncode == 1, full.stderr[-3000:]
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith("newsner: error: no room to write") and "free disk space" in last, last
    assert state(warehouse) == before
    ensure_unlocked(Warehouse(warehouse))
    monkeypatch.delenv("NEWSNER_FAULT_ACTION", raising=False)

    finished = newsner_run(inputs, warehouse, prefect_server)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert state(warehouse) == complete | {"runs": [(2,)]}
    assert_lake_equals_tables(warehouse)
