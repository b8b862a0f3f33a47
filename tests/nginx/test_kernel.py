"""nginx in a real kernel: an interrupted cell does not stop it; the kernel's end does, clean or killed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.kernel_driver import Kernel
from tests.requires import require_nginx
from wskit.live import nginx as nginx_module
from wskit.live.nginx import Nginx

require_nginx()

START = "from wskit.live.nginx import Nginx\nproxy = Nginx('location / { return 200 \"up\"; }', name='proxy')"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_interrupt_spares_nginx_and_a_clean_kernel_exit_stops_it() -> None:
    kernel = Kernel()
    try:
        kernel.run(START)
        pid, prefix = kernel.value("(proxy.pid, str(proxy.prefix))")
        # Jupyter interrupts by signalling the kernel's whole process group: nginx must not be in it
        result = kernel.interrupt_after(kernel.start("import time; time.sleep(30)"), 0.5)
        assert result.ename == "KeyboardInterrupt"
        assert kernel.value("proxy.running") and alive(pid)
        answer = kernel.value("__import__('urllib.request').request.urlopen(proxy.url, timeout=5).read().decode()")
        assert answer == "up"
    finally:
        kernel.client.stop_channels()
        kernel.manager.shutdown_kernel(now=False)  # what JupyterLab's restart and shutdown do: no stop_all()
    assert wait_gone(pid) and not Path(prefix).exists()  # atexit stopped nginx and removed its directory


def test_a_killed_kernel_leaves_no_nginx(monkeypatch) -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: no parent-death signal")
    kernel = Kernel()
    try:
        kernel.run(START)
        pid, prefix = kernel.value("(proxy.pid, str(proxy.prefix))")
    finally:
        kernel.close()  # SIGKILL: no atexit
    assert wait_gone(pid)  # the parent-death signal stopped nginx
    assert Path(prefix).exists()  # nobody could remove its directory ...
    monkeypatch.setattr(nginx_module, "STALE_AFTER", 0.0)
    Nginx('location / { return 200 "next"; }', name="next").stop()
    assert not Path(prefix).exists()  # ... until the next nginx started
