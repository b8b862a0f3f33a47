"""Learner code that hangs, raises or leaves servers running is contained: a time limit, the traceback shown,
everything it started stopped, and the kernel's wskit loop still working afterwards."""

from __future__ import annotations

import threading
import time

import pytest

import wskit
from wskit import exercises as ex

from .test_checks import define

pytestmark = pytest.mark.usefixtures("clean_kit", "progress_file")


def exercise_threads():
    return [t for t in threading.enumerate() if t.name.startswith("wskit-exercise")]


def test_a_busy_loop_is_interrupted_at_the_time_limit():
    spin = define("def accept_key(key):\n    while True:\n        pass\n", "accept_key")
    started = time.monotonic()
    result = ex.check("accept_key", spin, timeout=1.0)
    assert time.monotonic() - started < 5
    assert result.status == "failed" and "within 1 s" in result.summary
    assert "hangs" in result.mistake
    assert any("interrupted" in note for note in result.notes)
    deadline = time.monotonic() + 5
    while exercise_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exercise_threads() == []  # the exception thrown into it ended the worker


def test_a_blocking_sleep_is_abandoned_and_the_check_returns():
    sleepy = define("import time\ndef unmask(payload, key):\n    time.sleep(3)\n    return payload\n", "unmask")
    started = time.monotonic()
    result = ex.check("unmask", sleepy, timeout=0.5)
    assert time.monotonic() - started < 3  # did not wait for the sleep
    assert result.status == "failed" and "hangs" in result.mistake


def test_an_exception_shows_the_learners_traceback_only():
    broken = define("def accept_key(key):\n    table = {}\n    return table[key]\n", "accept_key")
    result = ex.check("accept_key", broken)
    assert result.status == "failed"
    assert "KeyError" in result.summary
    assert "return table[key]" in result.traceback
    assert "wskit/exercises" not in result.traceback
    assert "KeyError" in result.text()


def test_servers_the_learner_leaves_running_are_stopped():
    leaky = define(
        "import base64, hashlib\n"
        "def accept_key(key):\n"
        "    wskit.EchoServer()  # started and forgotten\n"
        "    wskit.connect(wskit.EchoServer().url)\n"
        "    digest = hashlib.sha1((key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()\n"
        "    return base64.b64encode(digest).decode()\n",
        "accept_key",
    )
    kept = wskit.EchoServer(name="the learner's own, from before")
    result = ex.check("accept_key", leaky)
    assert result.passed, result.text()
    assert any("stopped" in note for note in result.notes), result.notes
    assert wskit.live_objects() == [kept]  # what existed before the check is left alone
    kept.stop()


def test_a_hanging_and_leaking_learner_test_is_stopped_and_cleaned():
    hang = define(
        "import time\n"
        "def test_chat(url):\n"
        "    wskit.SocketIOClient(url)\n"
        "    while True:\n"
        "        time.sleep(0.01)\n",
        "test_chat",
    )
    result = ex.check("integration_test", hang, timeout=3)
    assert result.status == "failed" and "hangs" in result.mistake
    assert wskit.live_objects() == []


def test_an_async_handler_that_never_returns_is_bounded():
    stuck = define(
        "import asyncio\n"
        "def setup_rooms(srv):\n"
        "    @srv.on('join')\n"
        "    async def join(sid, room):\n"
        "        await asyncio.sleep(3600)\n",
        "setup_rooms",
    )
    started = time.monotonic()
    result = ex.check("sio_rooms", stuck)
    assert time.monotonic() - started < 15
    assert result.status == "failed"
    assert "never returned" in result.mistake
    assert "did not finish within" in result.traceback  # the server's log of the bounded handler
    assert wskit.live_objects() == []


def test_a_handler_that_blocks_the_loop_is_thrown_out_and_the_loop_lives_on():
    blocking = define(
        "def setup_rooms(srv):\n"
        "    @srv.on('join')\n"
        "    async def join(sid, room):\n"
        "        while True:  # no await: the whole wskit loop is stuck\n"
        "            pass\n",
        "setup_rooms",
    )
    result = ex.check("sio_rooms", blocking, timeout=4)
    assert result.status == "failed"
    assert any("blocked the wskit loop" in note for note in result.notes), result.notes
    assert wskit.live_objects() == []
    with wskit.EchoServer() as srv, wskit.connect(srv.url) as client:  # the loop serves again
        client.send("still alive")
        assert client.recv() == "still alive"


def test_not_a_function():
    result = ex.check("accept_key", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    assert result.status == "failed" and "pass your function itself" in result.summary


def test_an_unknown_exercise_names_the_real_ones():
    with pytest.raises(ValueError, match="accept_key"):
        ex.check("accept-key", print)
