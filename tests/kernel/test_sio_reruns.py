"""Re-running the Socket.IO server and client cells in a real kernel leaks nothing.

The bound stated: over 200 re-runs of both cells (with traffic each time) the kernel's loggers and logging
handlers are back to their baseline, two live objects remain, RSS grows by less than 60 MB (0.3 MB a re-run,
allocator slack included; before the fix each re-run kept a logger, a handler and a TrafficLog for ever), and
200 round trips afterwards take at most twice as long as before.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.kernel_driver import Kernel

RERUNS = 200
RSS_BOUND_MB = 60

SETUP = textwrap.dedent(
    """
    import gc, logging, time
    import wskit

    def rss_mb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    def state():
        gc.collect()
        return {
            "loggers": len(logging.Logger.manager.loggerDict),
            "handlers": len(logging._handlerList),
            "live": len(wskit.live_objects()),
            "rss": rss_mb(),
        }

    def round_trips(client, count=200):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for i in range(count):
                assert client.call("echo", i) == i
            best = min(best, time.perf_counter() - started)
        return best
    """
)

SERVER_CELL = textwrap.dedent(
    """
    srv = wskit.SocketIOServer()

    @srv.on("echo")
    async def echo(sid, data):
        return data
    """
)

CLIENT_CELL = textwrap.dedent(
    """
    c = wskit.SocketIOClient(srv.url)
    for i in range(10):
        c.call("echo", i)
    """
)


@pytest.fixture
def kernel():
    with Kernel() as k:
        yield k


def test_socketio_server_and_client_cells_rerun_200_times(kernel):
    assert kernel.execute(SETUP).status == "ok"
    for cell in (SERVER_CELL, CLIENT_CELL):
        result = kernel.execute(cell)
        assert result.status == "ok", result.error
    before = kernel.value("round_trips(c)")
    base = kernel.value("state()")
    for _ in range(RERUNS):
        for cell in (SERVER_CELL, CLIENT_CELL):
            result = kernel.execute(cell)
            assert result.status == "ok", result.error
    after_state = kernel.value("state()")
    after = kernel.value("round_trips(c)")
    grown = after_state["rss"] - base["rss"]
    print(f"{RERUNS} re-runs: loggers {base['loggers']} -> {after_state['loggers']}, handlers {base['handlers']} -> "
          f"{after_state['handlers']}, live objects {after_state['live']}, RSS +{grown:.1f} MB; "
          f"200 round trips {before:.3f} s before, {after:.3f} s after")
    assert after_state["loggers"] == base["loggers"]
    assert after_state["handlers"] == base["handlers"]
    assert after_state["live"] == base["live"] == 2
    assert grown < RSS_BOUND_MB
    assert after <= 2 * before
    assert kernel.execute("wskit.stop_all()").status == "ok"
