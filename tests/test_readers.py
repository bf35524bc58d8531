"""Readers while a run writes: `newsner sql`, `top` and `report` wait for a commit (bounded, with
a message) instead of failing, through a whole run and while a commit is held open on purpose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

NAMES = ["Kim Jong-un", "Vladimir Putin", "Emmanuel Macron", "Olaf Scholz", "Yoon Suk-yeol"]
PLACES = ["Moscow", "Pyongyang", "Seoul", "Berlin", "Paris", "Kyiv", "Brussels"]


def export(path, n: int, *, first: int = 0) -> None:
    with path.open("w") as out:
        for i in range(first, first + n):
            a, b = NAMES[i % 5], NAMES[(i + 2) % 5]
            out.write(json.dumps({
                "id": f"r{i}", "source": ["Harbor Wire", "Daily Meridian"][i % 2],
                "published": f"2025-{10 + i % 2}-{1 + i % 28:02d}T08:00:00Z",
                "text": f"{a} met {b} in {PLACES[i % 7]} on day {i}, and officials in "
                        f"{PLACES[(i + 3) % 7]} said talks number {i} would go on next week."}
                ) + "\n")


def newsner(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, env=env or os.environ.copy(), **kw)


def test_queries_in_a_loop_through_a_whole_run_never_fail(prefect_server, tmp_path):
    warehouse = tmp_path / "w"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    export(first, 50)
    export(second, 2_000, first=50)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NEWSNER_CHUNK_SIZE": "250"}
    assert newsner("run", str(first), "--warehouse", str(warehouse), env=env).returncode == 0

    run = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(second), "--warehouse",
                            str(warehouse)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    answers: list[tuple[str, int, str]] = []

    def ask() -> None:
        queries = [("sql", "SELECT count(*) AS n FROM articles"), ("top", "--limit", "3"),
                   ("sql", "SELECT count(*) FROM mentions")]
        while run.poll() is None:
            args = queries[len(answers) % len(queries)]
            done = newsner(*args, "--warehouse", str(warehouse), timeout=120)
            answers.append((args[0], done.returncode, done.stdout + done.stderr))

    loops = [threading.Thread(target=ask) for _ in range(2)]
    for loop in loops:
        loop.start()
    output = run.communicate(timeout=600)[0]
    for loop in loops:
        loop.join()
    assert run.returncode == 0, output[-3000:]
    failed = [a for a in answers if a[1] != 0]
    assert not failed, failed[:3]
    counts = [int(text.split()[2]) for kind, _, text in answers
              if kind == "sql" and "n\n" in text]
    assert len(answers) >= 10 and counts and counts[0] == 50  # asked while the run was running
    window = next(line for line in output.splitlines() if "held for writing" in line)
    print(f"\n{len(answers)} queries through a 2,000-article run, 0 failed; {window.strip()}")
    final = newsner("sql", "SELECT count(*) FROM articles", "--warehouse", str(warehouse),
                    "--csv")
    assert final.stdout.split()[-1] == "2050"


def _paused_run(prefect_server, tmp_path, seconds: float) -> tuple[subprocess.Popen, object]:
    """Run 5 articles into a new warehouse, then start a run of 7 more that holds its commit
    open (the file held read-write) for `seconds`; return (that run, the warehouse) once it is
    holding it."""
    warehouse = tmp_path / "w"
    first, inputs = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    export(first, 5)
    export(inputs, 7, first=5)
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    assert newsner("run", str(first), "--warehouse", str(warehouse), env=env).returncode == 0
    env = {**os.environ, "PREFECT_API_URL": prefect_server,
           "NEWSNER_FAULT": "commit:before-commit", "NEWSNER_FAULT_ACTION": f"pause:{seconds}"}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(inputs),
                             "--warehouse", str(warehouse)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "paused at commit:before-commit" in line:
            return proc, warehouse
    raise AssertionError(f"the run never reached its commit (exit {proc.wait()})")


def test_a_reader_waits_for_a_commit_held_open_and_sees_what_it_committed(prefect_server,
                                                                           tmp_path):
    run, warehouse = _paused_run(prefect_server, tmp_path, 3)
    started = time.monotonic()
    asked = [newsner("sql", "SELECT count(*) FROM articles", "--csv", "--warehouse",
                     str(warehouse)),
             newsner("top", "--limit", "2", "--warehouse", str(warehouse)),
             newsner("report", "--output", str(tmp_path / "r.html"), "--warehouse",
                     str(warehouse))]
    waited = time.monotonic() - started
    run.communicate(timeout=120)
    assert run.returncode == 0
    assert [a.returncode for a in asked] == [0, 0, 0], [a.stderr for a in asked]
    assert asked[0].stdout.split()[-1] == "12"  # it waited, then read the committed state
    assert waited >= 2.0  # the first reader arrived during the 3 s the commit was held
    assert (tmp_path / "r.html").stat().st_size > 0


def test_a_reader_that_waits_too_long_gets_one_line_saying_what_to_do(prefect_server, tmp_path):
    run, warehouse = _paused_run(prefect_server, tmp_path, 4)
    impatient = newsner("sql", "SELECT 1", "--warehouse", str(warehouse),
                        env={**os.environ, "NEWSNER_LOCK_WAIT": "0.5"})
    run.communicate(timeout=120)
    assert impatient.returncode == 2
    assert impatient.stderr.count("\n") == 1 and "Traceback" not in impatient.stderr
    assert "being written by a newsner run for more than 0.5 s" in impatient.stderr
    assert "parquet" in impatient.stderr  # where to read the last committed state meanwhile
