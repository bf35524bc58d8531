"""Shared fixtures: paths, the real spaCy model, a real Prefect server for the session."""

from __future__ import annotations

import os
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
def prefect_server():
    """A real temporary Prefect server (and its API URL) for the whole test session."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that mostly wait on real schedules first: under `-n` (make test) they
    share one worker's time with the tests that need the cores, instead of ending the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("waits") is None)
