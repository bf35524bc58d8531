"""Named moments of a run at which a crash test can kill it.

`NEWSNER_FAULT=<moment>` makes the run SIGKILL itself when it reaches that moment
(`NEWSNER_FAULT=<moment>@<n>`: the n-th time, from 1). Nothing happens without the variable: the
check is one environment lookup. The kill tests use these to stop runs before, during and after
the commit's statements and the export, and check the warehouse each time.
"""

from __future__ import annotations

import os
import signal

# Every moment, in the order a run passes them (tests iterate over this).
MOMENTS = (
    "plan:done",
    "chunk:read",
    "chunk:staged",
    "ner:staged",
    "propagate:part",
    "propagate:done",
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


def fault_point(moment: str) -> None:
    """Kill this process here if NEWSNER_FAULT names `moment` (and, with @n, this is its n-th
    passage)."""
    wanted = os.environ.get("NEWSNER_FAULT")
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != moment:
        return
    _SEEN[moment] = _SEEN.get(moment, 0) + 1
    if _SEEN[moment] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
