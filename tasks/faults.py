"""Named moments of a run at which a crash test can kill it.

`NEWSNER_FAULT=<moment>` makes the run SIGKILL itself when it reaches that moment
(`NEWSNER_FAULT=<moment>@<n>`: the n-th time, from 1); with `NEWSNER_FAULT_ACTION=disk-full` the
disk fills up there instead: from that moment no file can grow; with `pause:<seconds>` the run
waits there (a commit held open); with `until:<path>` it waits there until that file exists (at
most ten minutes), so a test decides when it goes on. Nothing happens without the
variable: the check is one environment lookup. The crash tests use these to stop runs before,
during and after the commit's statements and the export, and check the warehouse each time.
"""

from __future__ import annotations

import os
import signal
import threading

# Every moment, in the order a run passes them (tests iterate over this).
MOMENTS = (
    "plan:done",
    "chunk:read",
    "chunk:cleaned",
    "chunk:half-staged",
    "chunk:staged",
    "ner:staged",
    "propagate:part",
    "propagate:done",
    "places:part",
    "quotes:part",
    "resolve:staged",
    "aggregate:staged",
    "commit:begin",
    "commit:stored",
    "commit:name-forms",
    "commit:sources",
    "commit:replaced",
    "commit:keys-applied",
    "commit:before-commit",
    "commit:committed",
    "export:partition",
    "export:done",
    "summary:done",
)
_SEEN: dict[str, int] = {}
_COUNTING = threading.Lock()  # stages and the export pass moments from several threads


def fault_point(moment: str) -> None:
    """Kill this process here if NEWSNER_FAULT names `moment` (and, with @n, this is its n-th
    passage)."""
    wanted = os.environ.get("NEWSNER_FAULT")
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != moment:
        return
    with _COUNTING:
        _SEEN[moment] = seen = _SEEN.get(moment, 0) + 1
    if seen < int(nth or 1):
        return
    action = os.environ.get("NEWSNER_FAULT_ACTION", "kill")
    if action == "disk-full":
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes now fail with EFBIG
    elif action.startswith("pause:"):  # hold the run here (a commit held open on purpose)
        import sys
        import time

        print(f"newsner: fault: paused at {moment}", file=sys.stderr, flush=True)
        time.sleep(float(action.removeprefix("pause:")))
    elif action.startswith("until:"):
        import sys
        import time
        from pathlib import Path

        print(f"newsner: fault: waiting at {moment}", file=sys.stderr, flush=True)
        release, deadline = Path(action.removeprefix("until:")), time.monotonic() + 600
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
