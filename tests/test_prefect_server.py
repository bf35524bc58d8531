"""Monitoring: a real Prefect server on a free local port, a run reporting to it, read back
through Prefect's client (flow run, task runs, run-summary artifacts)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow

# the Dask test uses the session harness; the other tests start their own server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`prefect server start` on 127.0.0.1 with its own PREFECT_HOME; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": "", "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"}
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start",
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"Prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def run_against(server: str, warehouse: Path) -> str:
    """Run `newsner run seeds` as a user would, reporting to `server`; return the run id."""
    env = {**os.environ, "PREFECT_API_URL": server}
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", str(SEEDS), "--warehouse",
                           str(warehouse)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[2]


def test_a_run_reports_to_the_server_with_its_task_runs_and_summary_artifacts(server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    run_id = run_against(server, tmp_path / "w")

    async def read_back():
        async with get_client() as client:
            flow_run = await client.read_flow_run(run_id)
            task_runs = await client.read_task_runs()
            artifacts = await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])))
            return flow_run, [t for t in task_runs if t.flow_run_id == flow_run.id], artifacts

    with temporary_settings({PREFECT_API_URL: server}):
        flow_run, task_runs, artifacts = asyncio.run(read_back())
    assert flow_run.state.is_completed()
    names = {t.name.rsplit("-", 1)[0] for t in task_runs}
    assert {"plan-inputs", "ingest-chunk", "extract-mentions", "propagate-mentions",
            "resolve-entities", "aggregate-entities", "commit-run"} <= names
    by_key = {a.key: a for a in artifacts}
    assert {"newsner-run-summary", "newsner-run-report"} <= set(by_key)
    table = by_key["newsner-run-summary"].data
    rows = {row["measure"]: row["value"] for row in (
        table if isinstance(table, list) else json.loads(table))}
    assert rows["articles in"] == 11 and rows["new articles"] == 11
    assert rows["mentions"] > 100 and "seconds: ner" in rows
    assert "Kim Jong-un" in by_key["newsner-run-report"].data


@pytest.mark.waits
def test_a_served_schedule_runs_twice_and_the_second_run_takes_only_the_new_file(server,
                                                                                 tmp_path):
    import shutil as sh

    import duckdb

    inputs = tmp_path / "watched"
    inputs.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:3]:
        sh.copy(path, inputs / path.name)
    warehouse = tmp_path / "w"
    env = {**os.environ, "PREFECT_API_URL": server, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", str(inputs),
                             "--interval", "5", "--name", "test", "--warehouse", str(warehouse)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stored_runs():
        if not (warehouse / "newsner.duckdb").exists():
            return []
        try:
            with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
                return con.execute("SELECT n_new_articles FROM runs ORDER BY started_at").fetchall()
        except duckdb.IOException:  # a run is writing right now
            return None

    def wait_for(predicate, seconds=240):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text()[-3000:])
            runs = stored_runs()
            if runs is not None and predicate(runs):
                return runs
            time.sleep(1)
        pytest.fail("timed out: " + (tmp_path / "serve.log").read_text()[-3000:])

    try:
        assert wait_for(lambda runs: len(runs) >= 1) == [(3,)]
        sh.copy(sorted(SEEDS.glob("*.txt"))[3], inputs / "added.txt")
        assert wait_for(lambda runs: len(runs) >= 2) == [(3,), (1,)]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (4,)


def test_ner_on_a_two_worker_dask_cluster_gives_the_local_warehouse(prefect_server, tmp_path):
    from distributed import LocalCluster

    from flows.pipeline import newsner_run, with_runner
    from tasks.settings import Settings
    from tests.test_faults import state

    newsner_run([str(SEEDS)], Settings(warehouse=tmp_path / "local"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        # chunks of three articles: four NER task runs, whose articles are their input
        settings = Settings(warehouse=tmp_path / "dask", dask_address=cluster.scheduler_address,
                            chunk_size=3)
        summary = with_runner(settings)([str(SEEDS)], settings)
        with cluster.get_client() as client:
            # every worker process ran NER batches: each has loaded the model
            loaded = client.run(lambda: __import__("tasks.ner").ner._load.cache_info().currsize)
    assert summary["n_new_articles"] == 11
    assert len(loaded) == 2 and all(n >= 1 for n in loaded.values())
    assert state(tmp_path / "dask") == state(tmp_path / "local")  # every table


CHROMIUM = shutil.which("chromium")
BROWSER = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--virtual-time-budget=15000"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_the_prefect_ui_shows_the_run_and_its_artifacts(server, tmp_path):
    from PIL import Image

    run_id = run_against(server, tmp_path / "w")
    ui = server.removesuffix("/api")

    def browse(*args: str) -> subprocess.CompletedProcess:
        profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
        return subprocess.run([CHROMIUM, *BROWSER, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=180)

    def dom(url: str, *wanted: str) -> str:
        # the UI draws from API answers, which a loaded machine (the suite on every core) can
        # bring later than the browser's time budget: look again, up to three times
        for _ in range(3):
            page = browse("--dump-dom", url).stdout
            if all(text in page for text in wanted):
                break
        return page

    page = dom(f"{ui}/runs/flow-run/{run_id}", "Completed", "newsner-run")
    assert "Completed" in page and "newsner-run" in page
    artifacts = dom(f"{ui}/artifacts", "newsner-run-summary", "newsner-run-report")
    assert "newsner-run-summary" in artifacts and "newsner-run-report" in artifacts
    shot = tmp_path / "ui.png"
    browse("--window-size=1400,1000", f"--screenshot={shot}", f"{ui}/runs/flow-run/{run_id}")
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 100  # the run page is drawn, not a blank or error page


def test_a_temporary_server_leaves_block_types_to_the_project_server(server, tmp_path):
    """A run's temporary server (API only) starts without importing every Prefect collection to
    register its block types; a full server, as `make ui` starts it, registers them."""
    from flows.server import start_server

    temporary = start_server(tmp_path / "home", ui=False, services=False)
    try:
        temporary.wait_until_up()
        found = httpx.post(f"{temporary.api_url}/block_types/filter", json={}, timeout=30)
        assert found.status_code == 200 and found.json() == []
    finally:
        temporary.stop()
    assert httpx.post(f"{server}/block_types/filter", json={}, timeout=30).json()
