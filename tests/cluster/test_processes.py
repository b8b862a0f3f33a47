"""Starting the cluster's processes is bounded: a hung child times out, a failed start leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time

import pytest

import wskit
from tests.requires import NO_REDIS, needs
from wskit.live import cluster

pytestmark = pytest.mark.usefixtures("clean_kit")


def bounded(call, seconds: float):
    """Run ``call()`` in a thread, so that the test itself ends even if ``call`` never would."""
    outcome: dict[str, object] = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    return outcome


def test_a_socketio_process_that_never_answers_times_out(monkeypatch):
    hung = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(cluster, "_app_command", lambda redis_url: hung)
    started = time.monotonic()
    outcome = bounded(lambda: cluster.SocketIOProcess(timeout=1), 10)
    assert isinstance(outcome.get("error"), TimeoutError)
    assert "within 1 s" in str(outcome["error"])
    assert time.monotonic() - started < 5
    assert wskit.live_objects() == []


def test_a_socketio_process_that_dies_says_so(monkeypatch):
    monkeypatch.setattr(cluster, "_app_command", lambda redis_url: [sys.executable, "-c", "print('oops')"])
    with pytest.raises(RuntimeError, match="did not start: 'oops"):
        cluster.SocketIOProcess(timeout=5)
    assert wskit.live_objects() == []


@pytest.mark.parametrize("when", ["spawning", "starting", "started"])
def test_a_cluster_starts_side_by_side_and_leaves_nothing_running_when_one_fails(monkeypatch, when):
    """The second process fails (or the cell is interrupted) while it is spawned, while it starts, or just after
    it started: nothing of the cluster is left running, open or registered."""
    import psutil

    real_command, real_spawn, calls = cluster._app_command, cluster.spawn, []

    def command(redis_url):
        calls.append(redis_url)
        return [sys.executable, "-c", "print('oops')"] if len(calls) == 2 else real_command(redis_url)

    def spawn(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_spawn(*args, **kwargs)

    class Interrupted(cluster.SocketIOProcess):
        def __init__(self, **options):
            super().__init__(**options)
            if self.name.endswith("-2"):
                raise KeyboardInterrupt

    monkeypatch.setattr(cluster, "_app_command", command if when == "starting" else
                        lambda redis_url: calls.append(redis_url) or real_command(redis_url))
    if when == "spawning":
        monkeypatch.setattr(cluster, "spawn", spawn)
    if when == "started":
        monkeypatch.setattr(cluster, "SocketIOProcess", Interrupted)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(RuntimeError if when == "starting" else KeyboardInterrupt):
        cluster.start_socketio_cluster(3)
    if when != "spawning":
        assert len(calls) == 3  # all three were started before the first was waited for
    assert wskit.live_objects() == []
    left = [p for p in me.children(recursive=True) if p.pid not in before and p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []
    assert len(os.listdir("/proc/self/fd")) <= fds  # every pipe closed


@needs(shutil.which("redis-server") is not None, NO_REDIS)
def test_redis_starts_on_the_one_lifecycle_path(monkeypatch):
    """Like every live object: it takes its name first (replacing the one a re-run cell made), then starts."""
    seen_while_starting = []
    answers = cluster.RedisServer._ours_answers

    def watching(self):
        seen_while_starting.append([obj.name for obj in wskit.live_objects()])
        return answers(self)

    monkeypatch.setattr(cluster.RedisServer, "_ours_answers", watching)
    first = cluster.RedisServer(name="broker")
    redis = cluster.RedisServer(name="broker")  # a re-run cell: the first one is stopped before this one starts
    assert seen_while_starting and all(names == ["broker"] for names in seen_while_starting)
    assert wskit.live_objects() == [redis] and redis.running and not first.running


def test_redis_that_fails_to_start_or_is_interrupted_leaves_nothing(monkeypatch):
    false, sleep = shutil.which("false"), shutil.which("sleep")
    monkeypatch.setattr(cluster.shutil, "which", lambda name: false)  # exits at once
    with pytest.raises(RuntimeError, match="did not start"):
        cluster.RedisServer(timeout=2)
    assert wskit.live_objects() == []
    processes = []
    monkeypatch.setattr(cluster.shutil, "which", lambda name: sleep)
    original = cluster.subprocess.Popen

    def popen(*args, **kwargs):
        process = original([sleep, "30"], **kwargs)  # never answers a ping
        processes.append(process)
        return process

    def interrupted(self):
        raise KeyboardInterrupt  # the learner interrupts the cell while redis starts

    monkeypatch.setattr(cluster.subprocess, "Popen", popen)
    monkeypatch.setattr(cluster, "listens_on", lambda process, port: True)  # as if it listened: it is asked
    monkeypatch.setattr(cluster.RedisServer, "_ours_answers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cluster.RedisServer(timeout=5)
    assert wskit.live_objects() == []
    assert processes and processes[0].poll() is not None  # the child was stopped too


def test_a_stop_interrupted_while_the_process_exits_is_finished_by_the_next(monkeypatch):
    from wskit.live import children

    node = cluster.SocketIOProcess(name="node")
    process = node.process

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as the stop button does while end() waits for the process

    monkeypatch.setattr(children, "end", interrupted)
    with pytest.raises(KeyboardInterrupt):
        node.stop()
    monkeypatch.undo()
    assert node.running and wskit.live_objects() == [node]  # not lost: still known, still to be stopped
    wskit.stop_all()
    assert process.poll() is not None and process.stdout.closed and wskit.live_objects() == []


@needs(shutil.which("redis-server") is not None, NO_REDIS)
@pytest.mark.parametrize("psutil_denied", [False, True], ids=["psutil", "psutil-denied"])
def test_redis_tries_another_port_when_its_free_port_was_taken(monkeypatch, psutil_denied):
    """Another program may bind the free port between our look and redis-server's bind: redis-server exits, and the
    kit tries another port. The program on the taken port (here one that accepts and never answers) is never taken
    for our server, even where psutil may not list a process's sockets."""
    from wskit.live import children

    if psutil_denied:
        def denied(pid):
            raise children.psutil.AccessDenied(pid)

        monkeypatch.setattr(children.psutil, "Process", denied)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    impostor = taken.getsockname()[1]
    ports = iter([impostor])
    monkeypatch.setattr(cluster, "free_port", lambda: next(ports, None) or children.free_port())
    spawned = []
    spawn = cluster.spawn
    monkeypatch.setattr(cluster, "spawn", lambda *args, **kwargs: spawned.append(spawn(*args, **kwargs)) or spawned[-1])
    try:
        started = time.monotonic()
        redis = cluster.RedisServer(name="broker")
        assert time.monotonic() - started < 5  # no waiting on the silent listener
        assert redis.port != impostor and redis.running and len(spawned) == 2
        assert wskit.live_objects() == [redis]
        redis.stop()
        spawned.clear()
        monkeypatch.setattr(cluster, "free_port", lambda: impostor)  # every port it is given is taken
        with pytest.raises(RuntimeError, match=f"exited with status 1 on 3 free ports \\(the last {impostor}\\)"):
            cluster.RedisServer(name="broker")
        assert len(spawned) == 3 and all(p.poll() is not None for p in spawned)
        assert wskit.live_objects() == []
    finally:
        taken.close()
