"""A real ipykernel per test module, driven as JupyterLab drives it (see tests/kernel_driver.py)."""

import pytest

from tests.kernel_driver import Kernel

# Helpers defined in the kernel: how busy the wskit loop is, and how much traffic still flows.
PROBE = '''
import asyncio, os, threading, time
import wskit
from wskit.live import loop as _wl

def _loop_tasks():
    async def count():
        return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])
    return _wl.run(count())

def _quiet(log, seconds=0.5):
    """Bytes the log saw in ``seconds``: 0 when nothing is flowing."""
    before = log.bytes_sent + log.bytes_received
    time.sleep(seconds)
    return log.bytes_sent + log.bytes_received - before

def _settle(at_most, within=1.0):
    """Tasks on the loop once they are at most ``at_most`` (or after ``within`` s)."""
    deadline = time.monotonic() + within
    while (n := _loop_tasks()) > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
    return n

def _rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def _wskit_threads():
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("wskit"))
'''


@pytest.fixture(scope="module")
def kernel():
    with Kernel() as k:
        k.run(PROBE)
        yield k


@pytest.fixture(autouse=True)
def _clean(kernel):
    """Nothing of wskit running before and after each test (in whatever kernel the test's module uses)."""
    kernel.run("import wskit\nwskit.stop_all()")
    yield
    kernel.run("import wskit\nwskit.stop_all()")
