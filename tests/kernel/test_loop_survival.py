"""A handler cannot kill the kernel's wskit loop, and one that blocks it is named (issue 20).

Before: a handler calling ``sys.exit()`` (or raising ``KeyboardInterrupt``) killed the loop thread, and with
it every server and client in the kernel; ``stop_all()`` failed. A handler calling ``time.sleep(2)`` stalled
every bystander and nothing said why.
"""

import pytest


@pytest.mark.parametrize("raised", ["sys.exit(3)", "raise KeyboardInterrupt"])
def test_a_handler_exiting_closes_only_its_connection_in_a_kernel(kernel, raised):
    kernel.run(
        "import sys, websockets\n"
        "async def fatal(ws):\n"
        "    await ws.recv()\n"
        f"    {raised}\n"
        "srv = wskit.Server(fatal)\n"
        "echo = wskit.EchoServer()\n"
        "bystander = wskit.connect(echo.url)\n"
        "victim = wskit.connect(srv.url)\n"
        "victim.send('bye')\n"
        "try:\n"
        "    victim.recv()\n"
        "except websockets.ConnectionClosedError:\n"
        "    pass\n"
    )
    assert kernel.value("victim.close_code") == 1011
    assert kernel.value("srv.log.wait_for(lambda r: r.opcode == 'ERROR').opcode") == "ERROR"
    kernel.run("bystander.send('fine'); assert bystander.recv() == 'fine'")
    kernel.run("wskit.stop_all()")
    assert kernel.value("_wskit_threads()") == []
    assert kernel.value("wskit.live_objects()") == []


def test_a_handler_blocking_the_loop_is_reported_in_its_log(kernel):
    kernel.run(
        "import time\n"
        "async def dozing(ws):\n"
        "    async for m in ws:\n"
        "        time.sleep(1)\n"
        "        await ws.send(m)\n"
        "srv = wskit.Server(dozing)\n"
        "c = wskit.connect(srv.url)\n"
        "c.send('x'); assert c.recv() == 'x'\n"
        "report = srv.log.wait_for(lambda r: r.opcode == 'ERROR', timeout=3).info\n"
    )
    report = kernel.value("report")
    assert "dozing()" in report and "blocked the wskit loop" in report
