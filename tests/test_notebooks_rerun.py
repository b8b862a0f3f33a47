"""Every notebook runs twice in a row in one kernel, and leaks nothing.

nbval (configured in pyproject.toml) runs each notebook once in a fresh kernel
and compares outputs. This test does what a learner does: Run All, then Run
All again in the same kernel, and checks that after ``wskit.stop_all()`` the
kernel has as many threads and open file descriptors as after the first run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

from tests.kernel_driver import Kernel

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# ZeroMQ starts its garbage-collector thread (a bare "Thread-N"), with a context and sockets of its own, on the
# kernel's first zero-copy message, one over 64 KiB (a plot, a panel's rows). Whether that came in the first run
# or the second would depend on timing: send one before the first run, so that both runs start with it.
WARM_UP = "from IPython.display import display\ndisplay({'text/plain': 'x' * 200_000}, raw=True)"

PROBE = """
import gc, json, os, threading, wskit
wskit.stop_all()
for t in threading.enumerate():
    if t.name == "wskit-redraw":  # a panel's last coalesced redraw, due within 50 ms
        t.join(1)
gc.collect()
# ipykernel gives each thread that sends messages (the wskit loop thread, when a panel
# redraws) a socket of its own, and closes those of dead threads every 10 s. Run that
# clean-up now, so that only sockets still in use are counted.
import asyncio
iopub = get_ipython().kernel.iopub_thread
try:
    asyncio.run_coroutine_threadsafe(iopub._event_pipe_gc(), iopub.io_loop.asyncio_loop).result(5)
except AttributeError:  # another ipykernel: wait for its own clean-up instead
    import time
    time.sleep(11)
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the descriptor listdir itself used, now closed
        pass
print(json.dumps({
    "threads": sorted(t.name for t in threading.enumerate()),
    "fds": fds,
    "live": [o.name for o in wskit.live_objects()],
}))
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_twice_in_one_kernel_without_leaks(path: Path) -> None:
    sources = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert sources, f"{path.name} has no code"
    kernel = Kernel(path.parent)
    try:
        kernel.run(WARM_UP)
        for source in sources:
            kernel.run(source)
        first = json.loads(kernel.run(PROBE))
        for source in sources:
            kernel.run(source)
        # ZeroMQ closes the sockets of finished threads in its own thread, a moment later:
        # a leak stays, a late close does not. Look again a few times before calling it a leak.
        for _ in range(10):
            second = json.loads(kernel.run(PROBE))
            if len(_ours(second)) <= len(_ours(first)):
                break
            time.sleep(0.2)
    finally:
        kernel.close()
    assert second["live"] == []
    assert not [t for t in second["threads"] if t.startswith(("wskit", "asyncio_"))]
    assert second["threads"] == first["threads"]
    ours, before = _ours(second), _ours(first)
    assert len(ours) <= len(before), {fd: t for fd, t in ours.items() if before.get(fd) != t}


def _ours(probe: dict) -> dict[str, str]:
    """What wskit could leak: sockets, and the epoll/eventfd descriptors of event loops.

    (Files such as IPython's history journal come and go on their own.)
    """
    return {fd: t for fd, t in probe["fds"].items() if t.startswith(("socket:", "anon_inode:"))}


def test_there_are_notebooks():
    assert any(p.name == "02_handshake.ipynb" for p in NOTEBOOKS)
