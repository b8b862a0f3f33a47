"""Exercises in a real kernel: what the learner's code prints lands in the check's cell, the stop button
ends a hanging check with everything it started stopped, and the result shows as a widget with a text form."""

from __future__ import annotations

import pytest

from tests.kernel_driver import Kernel

WAIT_FOR_WORKERS = """
import threading, time

def workers():
    return [t.name for t in threading.enumerate() if t.name.startswith("wskit-exercise")]

deadline = time.monotonic() + 10
while workers() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("WSKIT_PROGRESS", str(tmp_path / "progress.json"))
    k = Kernel(tmp_path)
    # wskit.live imported before any interrupt: an interrupted import is not what is tested
    k.run("import wskit\nimport wskit.live\nfrom wskit import exercises as ex")
    yield k
    k.close()


def test_prints_of_the_learners_code_land_in_the_check_cell(kernel):
    kernel.run("def unmask(payload, key):\n    print('unmasking', len(payload), 'bytes')\n"
               "    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))")
    result = kernel.execute('ex.check("unmask", unmask)')
    assert result.status == "ok"
    assert "unmasking 5 bytes" in result.stdout  # from the worker thread, into this cell
    (bundle,) = result.displays
    assert bundle["text/plain"].startswith("✓ unmask: passed")
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_the_stop_button_ends_a_hanging_check_and_stops_its_servers(kernel):
    kernel.run("import time\ndef test_chat(url):\n    wskit.SocketIOClient(url)\n    while True:\n"
               "        time.sleep(0.01)")
    msg_id = kernel.start('ex.check("integration_test", test_chat)')
    result = kernel.interrupt_after(msg_id, 3.0)
    assert result.ename == "KeyboardInterrupt"
    assert kernel.value("[o.name for o in wskit.live_objects()]") == []
    # the worker ends as soon as its own clean-up (the checker's `finally`) is done
    kernel.run(WAIT_FOR_WORKERS)
    assert kernel.value("workers()") == []
    # and the kit still works
    assert "passed" in kernel.run('print(ex.check("accept_key", lambda key: wskit.codec.accept_key(key)).status)')


def test_a_stub_check_says_not_yet_in_the_kernel(kernel):
    kernel.run(kernel.value('ex.exercise("close_frame").stub'))
    result = kernel.execute('ex.check("close_frame", close_frame)')
    assert result.status == "ok" and result.stderr == ""
    assert result.displays[0]["text/plain"].startswith("… close_frame: not yet")
