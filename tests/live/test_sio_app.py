"""The course's Socket.IO chat app: per-message CPU work, and what each process knows of a room."""

from __future__ import annotations

import time

import pytest

import wskit
from wskit.live import sio_app

pytestmark = pytest.mark.usefixtures("clean_kit")


def test_burn_spends_cpu_time():
    started = time.thread_time()
    sio_app.burn(20)
    assert time.thread_time() - started >= 0.020


def test_work_makes_every_echo_spend_cpu_and_refuses_nonsense():
    srv = sio_app.install(wskit.SocketIOServer(name="app"))
    client = wskit.SocketIOClient(srv.url, name="c")
    assert client.call("work", 5)["work_ms"] == 5.0
    started = time.perf_counter()
    for i in range(10):
        assert client.call("echo", i) == i
    assert time.perf_counter() - started >= 10 * 0.005  # each echo spent 5 ms of the server thread's CPU
    for bad in (-1, 5000, "lots", True, None):
        assert "error" in client.call("work", bad)
    assert client.call("work", 0)["work_ms"] == 0.0
    with pytest.raises(ValueError):
        sio_app.install(wskit.SocketIOServer(name="bad"), work_ms=-1)


def test_members_lists_the_clients_this_process_knows():
    srv = sio_app.install(wskit.SocketIOServer(name="app"))
    alice = wskit.SocketIOClient(srv.url, name="alice")
    bob = wskit.SocketIOClient(srv.url, name="bob")
    alice.call("join", "lobby")
    answer = bob.call("members", "lobby")
    assert answer == {"port": srv.port, "members": [alice.sid]}
    assert bob.call("members", "nowhere")["members"] == []
