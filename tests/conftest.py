"""Shared fixtures: paths, the real spaCy model, a real Prefect server for the session."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Before anything imports prefect: no telemetry from tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only development data beside the project; tests using it skip without it."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def nlp():
    """The default spaCy pipeline, loaded the way the NER stage loads it."""
    from tasks.ner import load_nlp

    return load_nlp("en_core_web_sm")


@pytest.fixture(scope="session")
def prefect_server(request):
    """A real temporary Prefect server (and its API URL) for the whole test session: under
    xdist the one the controller started for every worker, else one of this process's own."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    shared = getattr(request.config, "workerinput", {}).get("prefect_api_url")
    if shared:
        from flows.server import healthy

        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not healthy(shared, timeout=2):
            assert time.monotonic() < deadline, f"the session's Prefect server ({shared}) " \
                f"did not answer within {SERVER_START_TIMEOUT} s"
            time.sleep(0.2)
        with temporary_settings({PREFECT_API_URL: shared}):
            yield shared
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=SERVER_START_TIMEOUT):
        yield PREFECT_API_URL.value()


SERVER_START_TIMEOUT = 120
_SHARED_SERVER: dict = {}


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, the controller starts one temporary Prefect server for all workers, as
    Prefect's test harness starts one (uvicorn, ephemeral mode, a database of its own), while
    the workers start: one server's start-up instead of one per worker."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from flows.server import _die_with_parent, free_port

    home = Path(tempfile.mkdtemp(prefix="newsner-tests-prefect-"))
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": "",
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=(home / "server.log").open("wb"), start_new_session=True,
        preexec_fn=_die_with_parent)  # a controller killed outright takes its server with it
    _SHARED_SERVER.update(process=process, home=home, api_url=f"http://127.0.0.1:{port}/api")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    if _SHARED_SERVER:
        node.workerinput["prefect_api_url"] = _SHARED_SERVER["api_url"]


def pytest_unconfigure(config: pytest.Config) -> None:
    process = _SHARED_SERVER.pop("process", None)
    if process is None:
        return
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    shutil.rmtree(_SHARED_SERVER.pop("home"), ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that mostly wait on real schedules first: under `-n` (make test) they
    share one worker's time with the tests that need the cores, instead of ending the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("waits") is None)
