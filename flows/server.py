"""The Prefect server a newsner command talks to.

- The project's server: `newsner ui` (what `make ui` runs) starts `prefect server start` on
  127.0.0.1 with the project's Prefect home and records its address in
  <PREFECT_HOME>/newsner-server.json; `newsner run` and `newsner serve` use it while it answers.
- Otherwise `newsner run` starts a temporary server of its own (API only) the moment the command
  starts, so it comes up while the run loads, and stops it when the run ends; `newsner serve`
  starts the project's server for as long as it serves.

Nothing here imports Prefect: the servers are processes, and the address goes to Prefect through
PREFECT_API_URL before Prefect is imported.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "newsner-server.json"
DEFAULT_PORT = 4200
# A fresh Prefect home builds its database first: seconds on an idle machine, a minute or more on
# a busy one. A slow start must never fail a run.
START_TIMEOUT = 300.0


class ServerError(Exception):
    """A Prefect server newsner needs did not start; the message says why and what to do."""


def prefect_home() -> Path:
    """Return the Prefect home in use: PREFECT_HOME, else the project's .prefect/ when the command
    runs in a project that has one, else Prefect's default."""
    if os.environ.get("PREFECT_HOME"):
        return Path(os.environ["PREFECT_HOME"])
    if Path(".prefect").is_dir():
        return Path(".prefect").resolve()
    return Path.home() / ".prefect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.cache
def _client():
    import httpx

    return httpx.Client()  # one for the process: each new client builds an SSL context (~30 ms)


def healthy(api_url: str, timeout: float = 0.5) -> bool:
    """Return True when the Prefect API at `api_url` answers its health check."""
    import httpx

    try:
        return _client().get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def project_server(home: Path) -> str | None:
    """Return the API URL of the project's running server, if `newsner ui` (or `newsner serve`)
    started one that still answers."""
    try:
        state = json.loads((home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if _alive(int(state.get("pid", 0))) and healthy(state["api_url"]):
        return state["api_url"]
    return None


@dataclass
class Server:
    """A Prefect server process newsner started, and how to stop it."""

    process: subprocess.Popen
    api_url: str
    home: Path
    recorded: bool = False  # its address is in the project's state file

    def wait_until_up(self, timeout: float = START_TIMEOUT) -> None:
        """Return when the server answers; raise ServerError if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"the Prefect server exited with code {self.process.returncode} "
                                  f"before answering; see `prefect server start` with "
                                  f"PREFECT_HOME={self.home}")
            if healthy(self.api_url, timeout=2):
                return
            time.sleep(0.2)
        raise ServerError(f"the Prefect server did not answer within {timeout:g} s; set "
                          "PREFECT_API_URL to a running server, or start one with `make ui`")

    def stop(self) -> None:
        """Stop the server and its children; forget its address if it was recorded."""
        if self.recorded:
            with _suppressed():
                state = json.loads((self.home / STATE_FILE).read_text())
                if state.get("pid") == self.process.pid:
                    (self.home / STATE_FILE).unlink()
        if self.process.poll() is None:
            with _suppressed():
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with _suppressed():
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self in _STARTED:
            _STARTED.remove(self)


# The servers this process started and has not stopped yet: what a forced exit must stop.
_STARTED: list[Server] = []


def descendants(pid: int) -> list[int]:
    """Return the ids of the processes below `pid` that still run (Linux' /proc; none
    elsewhere)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with _suppressed():
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def stop_everything_started() -> None:
    """Kill what this process started (runs in flight, their workers) and stop its servers."""
    servers = {server.process.pid for server in _STARTED}
    for server in list(_STARTED):
        server.stop()
    for pid in descendants(os.getpid()):
        if pid not in servers:
            with _suppressed():
                os.kill(pid, signal.SIGKILL)


def exit_when_stuck(signum: int, grace: float) -> None:
    """After a stop signal: give the command `grace` seconds to stop by itself, then stop
    everything it started and exit, so a stuck shutdown never leaves a process behind."""
    def watch():
        time.sleep(grace)
        print(f"newsner: still stopping {grace:g} s after the signal; ending the run in flight "
              "and the server", file=sys.stderr, flush=True)
        stop_everything_started()
        os._exit(128 + signum)

    threading.Thread(target=watch, name="newsner-stop-watchdog", daemon=True).start()


class _suppressed:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is not None and issubclass(kind, (OSError, ValueError, KeyError))


def _die_with_parent() -> None:
    """In the server's process: ask Linux for SIGTERM when the newsner process that started it
    ends, however it ends (even killed), so no server outlives its command."""
    import ctypes

    with _suppressed():
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(home: Path, *, port: int | None = None, ui: bool = True, services: bool = True,
                 record: bool = False, log: Path | None = None) -> Server:
    """Start `prefect server start` on 127.0.0.1 with Prefect home `home`; return at once (see
    Server.wait_until_up). `record` writes its address to the project's state file."""
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": "",
           "PREFECT_UI_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    args = [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
            "--port", str(port), "--analytics-off"]
    if not ui:
        args.append("--no-ui")
        # API only, for one command: Prefect's block types (for the UI's forms) are left to the
        # project's server; importing every collection to register them took 0.3 s of the start
        for name in ("PREFECT_API_BLOCKS_REGISTER_ON_START",
                     "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION"):
            env.setdefault(name, "false")
    if not services:
        args.append("--no-services")
    home.mkdir(parents=True, exist_ok=True)
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=_die_with_parent)
    server = Server(process, api_url, home)
    _STARTED.append(server)
    if record:
        (home / STATE_FILE).write_text(json.dumps({"api_url": api_url, "pid": process.pid}))
        server.recorded = True
    return server


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
