"""Starting the cluster's processes is bounded: a hung child times out, a failed start leaves nothing behind."""

from __future__ import annotations

import shutil
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


def test_a_cluster_starts_side_by_side_and_leaves_nothing_running_when_one_fails(monkeypatch):
    import psutil

    real, calls = cluster._app_command, []

    def second_one_fails(redis_url):
        calls.append(redis_url)
        return [sys.executable, "-c", "print('oops')"] if len(calls) == 2 else real(redis_url)

    monkeypatch.setattr(cluster, "_app_command", second_one_fails)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(RuntimeError, match="did not start: 'oops"):
        cluster.start_socketio_cluster(3)
    assert len(calls) == 3  # all three were started before the first was waited for
    assert wskit.live_objects() == []
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []


@needs(shutil.which("redis-server") is not None, NO_REDIS)
def test_redis_starts_on_the_one_lifecycle_path(monkeypatch):
    """Like every live object: it takes its name first (replacing the one a re-run cell made), then starts."""
    seen_while_starting = []
    answers = cluster.RedisServer._answers_ping

    def watching(self):
        seen_while_starting.append([obj.name for obj in wskit.live_objects()])
        return answers(self)

    monkeypatch.setattr(cluster.RedisServer, "_answers_ping", watching)
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
    monkeypatch.setattr(cluster.RedisServer, "_answers_ping", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cluster.RedisServer(timeout=5)
    assert wskit.live_objects() == []
    assert processes and processes[0].poll() is not None  # the child was stopped too
