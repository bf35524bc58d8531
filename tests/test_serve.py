"""`newsner serve` typed as the README shows it: no PREFECT_API_URL, nothing else running. It starts
the project's Prefect server, its schedule fires, the runs show in the UI, a new feed item is
queryable within a minute, and Ctrl-C or SIGTERM leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, SEEDS

pytestmark = [pytest.mark.slow, pytest.mark.waits]

CHROMIUM = shutil.which("chromium")
BROWSER = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--virtual-time-budget=15000"]


def serve_env(home: Path, **extra: str) -> dict:
    """The environment of a user who typed the README's command: no server configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(home), "DO_NOT_TRACK": "1", **extra}


def start_serve(tmp_path: Path, inputs: list[str], interval: int, env: dict) -> subprocess.Popen:
    log = (tmp_path / "serve.log").open("w")
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "newsner"), "serve", *inputs, "--interval",
         str(interval), "--warehouse", str(tmp_path / "w"), "--ui-port", "0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def tree(pid: int) -> list:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def server_url(home: Path, proc: subprocess.Popen, tmp_path: Path, seconds: float = 240) -> str:
    """The API URL of the project server `newsner serve` started (its state file)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail((tmp_path / "serve.log").read_text()[-3000:])
        state = home / "newsner-server.json"
        if state.exists() and "serving deployment" in (tmp_path / "serve.log").read_text():
            return json.loads(state.read_text())["api_url"]
        time.sleep(0.5)
    pytest.fail("serve never came up: " + (tmp_path / "serve.log").read_text()[-3000:])


def completed_runs(api_url: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def count():
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type={"any_": ["COMPLETED"]})))
            return len(runs)

    with temporary_settings({PREFECT_API_URL: api_url}):
        return asyncio.run(count())


def stored(warehouse: Path, sql: str) -> list | None:
    if not (warehouse / "newsner.duckdb").exists():
        return None
    try:
        with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()
    except duckdb.IOException:  # a run is committing right now
        return None


def wait_for(predicate, proc, tmp_path, seconds=240):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail((tmp_path / "serve.log").read_text()[-3000:])
        if (value := predicate()) is not None and value is not False:
            return value
        time.sleep(0.5)
    pytest.fail("timed out: " + (tmp_path / "serve.log").read_text()[-3000:])


def stop_and_check_nothing_is_left(proc: subprocess.Popen, sig: int, home: Path, api_url: str):
    from flows.server import healthy

    started = tree(proc.pid)
    assert len(started) >= 2  # serve and the server it started
    proc.send_signal(sig)
    proc.wait(timeout=60)
    time.sleep(1)
    assert not [p for p in started if p.is_running() and p.status() != "zombie"]
    assert not healthy(api_url)
    assert not (home / "newsner-server.json").exists()


def test_serve_as_typed_runs_its_schedule_shows_it_in_the_ui_and_ctrl_c_leaves_nothing(tmp_path):
    home = tmp_path / "prefect-home"
    watched = tmp_path / "watched"
    watched.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(path, watched / path.name)
    proc = start_serve(tmp_path, [str(watched)], 8, serve_env(home))
    try:
        api_url = server_url(home, proc, tmp_path)
        warehouse = tmp_path / "w"
        assert wait_for(lambda: stored(warehouse, "SELECT n_new_articles FROM runs"), proc,
                        tmp_path) == [(3,)]
        shutil.copy(sorted(SEEDS.glob("*.txt"))[3], watched / "added.txt")
        runs = wait_for(lambda: (r := stored(warehouse, "SELECT n_new_articles FROM runs "
                                                        "ORDER BY started_at")) and len(r) >= 2
                        and r, proc, tmp_path)
        assert runs == [(3,), (1,)]  # the second run stores only the added file
        assert wait_for(lambda: completed_runs(api_url) >= 3, proc, tmp_path)
        if CHROMIUM:
            ui = api_url.removesuffix("/api")
            page = subprocess.run([CHROMIUM, *BROWSER, f"--user-data-dir={tmp_path / 'chrome'}",
                                   "--dump-dom", f"{ui}/runs"], capture_output=True, text=True,
                                  timeout=180).stdout
            assert "newsner-run" in page and "Completed" in page
            shot = tmp_path / "runs.png"
            subprocess.run([CHROMIUM, *BROWSER, f"--user-data-dir={tmp_path / 'chrome2'}",
                            "--window-size=1400,1000", f"--screenshot={shot}", f"{ui}/runs"],
                           capture_output=True, timeout=180)
            from PIL import Image

            assert len(Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)) > 100
        stop_and_check_nothing_is_left(proc, signal.SIGINT, home, api_url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_sigterm_stops_serve_and_everything_it_started(tmp_path):
    home = tmp_path / "prefect-home"
    watched = tmp_path / "watched"
    watched.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], watched / "one.txt")
    proc = start_serve(tmp_path, [str(watched)], 5, serve_env(home))
    try:
        api_url = server_url(home, proc, tmp_path)
        wait_for(lambda: stored(tmp_path / "w", "SELECT count(*) FROM runs"), proc, tmp_path)
        stop_and_check_nothing_is_left(proc, signal.SIGTERM, home, api_url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_shutdown_that_hangs_is_ended_with_everything_the_command_started(tmp_path):
    """The watchdog `newsner serve` arms on Ctrl-C or SIGTERM: a command that does not stop by
    itself within the grace is ended, and so is every process it started (here a child that
    would sleep for five minutes, and a Prefect server)."""
    script = (
        "import signal, subprocess, sys, time\n"
        "from pathlib import Path\n"
        "from flows.server import exit_when_stuck, start_server\n"
        f"server = start_server(Path({str(tmp_path / 'home')!r}), ui=False, services=False)\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "print(child.pid, server.process.pid, flush=True)\n"
        "exit_when_stuck(signal.SIGINT, 1.0)\n"
        "time.sleep(120)  # a shutdown that never ends\n")
    out, err = tmp_path / "out", tmp_path / "err"  # files: the children inherit them
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=stdout,
                                stderr=stderr, env=serve_env(tmp_path / "home"))
    deadline = time.monotonic() + 120
    while not out.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.1)
    child, server = map(int, out.read_text().split())
    started = time.monotonic()
    assert proc.wait(timeout=60) == 128 + signal.SIGINT
    assert time.monotonic() - started < 30
    assert "still stopping" in err.read_text()
    import psutil

    time.sleep(0.5)
    for pid in (child, server):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", pid


def test_serve_that_cannot_reach_its_server_says_so_in_one_line(tmp_path):
    from flows.server import free_port

    env = serve_env(tmp_path / "home", PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "serve", str(SEEDS), "--interval",
                           "5", "--warehouse", str(tmp_path / "w")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Prefect server" in lines[0] and "Traceback" not in done.stderr


class Feed:
    """A feed on the local test server whose items a test adds while serve polls it; it answers
    conditional requests with 304 while nothing changed."""

    def __init__(self):
        self.items: list[tuple[str, str]] = []
        self.requests: list[int] = []

    def body(self, base: str) -> bytes:
        items = "".join(
            f"<item><title>{title}</title><link>{base}/item/{n}</link><guid>{base}/item/{n}</guid>"
            f"<pubDate>Tue, 28 Oct 2025 0{n % 10}:00:00 GMT</pubDate><description><![CDATA[{text}]]>"
            "</description><content:encoded><![CDATA[<p>" + text + "</p>]]></content:encoded>"
            "</item>" for n, (title, text) in enumerate(self.items))
        return (f'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/'
                f'modules/content/"><channel><title>Harbor Wire</title><link>{base}</link>{items}'
                "</channel></rss>").encode()


def test_a_new_feed_item_is_queryable_within_a_minute(tmp_path):
    feed = Feed()
    feed.items.append(("Kim visits Moscow", "Kim Jong-un arrived in Moscow on Monday to meet "
                                            "Vladimir Putin, state media said."))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - the name http.server calls
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = feed.body(base)
            tag = f'"{hash(body) & 0xffffffff:x}"'
            self.server_status = None
            if self.headers.get("If-None-Match") == tag:
                feed.requests.append(304)
                self.send_response(304)
                self.end_headers()
                return
            feed.requests.append(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", tag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/feed.rss"
    home = tmp_path / "prefect-home"
    proc = start_serve(tmp_path, [url], 30, serve_env(home, NEWSNER_ALLOW_PRIVATE_NETWORK="true"))
    warehouse = tmp_path / "w"
    try:
        api_url = server_url(home, proc, tmp_path)
        wait_for(lambda: stored(warehouse, "SELECT count(*) FROM articles") == [(1,)], proc,
                 tmp_path)
        polls = len(feed.requests)
        wait_for(lambda: len(feed.requests) > polls, proc, tmp_path, seconds=90)
        assert feed.requests[-1] == 304  # an idle poll costs a 304, nothing is read again
        appeared = time.time()
        feed.items.append(("Seoul answers", "South Korea's president Lee Jae-myung said in Seoul "
                                            "that the talks in Moscow threatened the region."))
        wait_for(lambda: stored(warehouse, "SELECT count(*) FROM articles WHERE title = "
                                           "'Seoul answers'") == [(1,)], proc, tmp_path,
                 seconds=120)
        lag = time.time() - appeared
        print(f"\nfreshness: the new feed item was queryable {lag:.1f} s after it appeared")
        assert lag <= 60
        stop_and_check_nothing_is_left(proc, signal.SIGINT, home, api_url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        httpd.shutdown()
