"""Redis and the Socket.IO processes in a real kernel: an interrupted cell does not stop them; the kernel's end does.

Jupyter interrupts a kernel by signalling its whole process group; a child in that group (redis-server exits on
SIGINT) would die with the interrupted cell. wskit starts its children in sessions of their own
(wskit.live.children), stopped at the kernel's exit instead.
"""

from __future__ import annotations

from tests.kernel_driver import Kernel
from tests.nginx.test_kernel import alive, wait_gone
from tests.requires import require_redis

require_redis()

START = (
    "from wskit.live.cluster import RedisServer, SocketIOProcess\n"
    "broker = RedisServer(name='broker')\n"
    "app = SocketIOProcess(redis_url=broker.url, name='app')"
)


def test_an_interrupt_spares_the_children_and_the_kernels_exit_stops_them() -> None:
    kernel = Kernel()
    try:
        kernel.run(START)
        pids = kernel.value("[broker.process.pid, app.pid]")
        result = kernel.interrupt_after(kernel.start("import time; time.sleep(30)"), 0.5)
        assert result.ename == "KeyboardInterrupt"
        assert kernel.value("[broker.running, app.running]") == [True, True]
        assert all(alive(pid) for pid in pids)
    finally:
        kernel.client.stop_channels()
        kernel.manager.shutdown_kernel(now=False)  # JupyterLab's restart and shutdown: no stop_all() in the cell
    assert all(wait_gone(pid) for pid in pids)
