"""BrowserClient in a real kernel with no notebook front end (as under nbval): it never waits for a browser."""

from __future__ import annotations

from tests.kernel_driver import Kernel


def test_wait_connected_returns_at_once_without_a_front_end():
    with Kernel() as kernel:
        out = kernel.run(
            "import time, wskit\nfrom wskit.widgets import BrowserClient\nfrom wskit.widgets.browserclient import "
            "front_end_attached\nsrv = wskit.EchoServer(name='e')\nbc = BrowserClient(srv)\n"
            "started = time.monotonic()\nprint(front_end_attached(), bc.wait_connected(30), "
            "time.monotonic() - started < 1)\nwskit.stop_all()"
        )
        assert out.split() == ["False", "False", "True"]
        # the same cell sent by a notebook front end (JupyterLab puts the cell's id in the request's metadata)
        msg_id = kernel.client.execute(
            "from wskit.widgets.browserclient import front_end_attached\nprint(front_end_attached())"
        )
        assert msg_id
        kernel.wait(msg_id)
        msg = kernel.client.session.msg("execute_request", {"code": "print(front_end_attached())", "silent": False,
                                                            "store_history": True, "user_expressions": {},
                                                            "allow_stdin": False, "stop_on_error": True})
        msg["metadata"]["cellId"] = "a-cell"
        kernel.client.shell_channel.send(msg)
        assert kernel.wait(msg["header"]["msg_id"]).stdout.strip() == "True"
