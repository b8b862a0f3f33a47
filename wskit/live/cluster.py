"""Scaling out: a Redis server and several Socket.IO server processes, on loopback.

* :class:`RedisServer` starts Debian's ``redis-server`` on 127.0.0.1 and a free port, with no persistence.
* :class:`SocketIOProcess` runs the course's Socket.IO chat app (:func:`wskit.live.sio_app.install`) in a
  process of its own, optionally sharing rooms and broadcasts with the others through Redis.
* :func:`start_socketio_cluster` starts several at once.

All of them are stopped by :func:`wskit.stop_all`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import sys
import time

import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import loop as _loop
from .children import ChildProcess, end, free_port, listens_on, spawn, stop_at_exit

__all__ = ["RedisServer", "SocketIOProcess", "start_socketio_cluster", "RedisMissing"]

INSTALL_REDIS = (
    "Debian's redis-server is not installed. Install it with 'sudo apt-get install redis-server' "
    "(as root: 'apt-get install redis-server'); on Binder, binder/apt.txt installs it."
)


class RedisMissing(RuntimeError):
    """``redis-server`` is not installed; the message says how to install it."""


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line ``process`` writes to its stdout, waiting at most ``timeout`` seconds (never for ever).

    Raises:
        TimeoutError: no whole line within ``timeout`` (the process may be hung).
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout} s")
            if not selector.select(min(remaining, 0.5)):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:  # the process closed its stdout (it exited)
                break
            data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", "replace") + ("\n" if b"\n" in data else "")


class RedisServer(ChildProcess, _loop.LiveObject):
    """A throw-away ``redis-server`` on 127.0.0.1: no persistence, stopped by :func:`wskit.stop_all`.

    Raises:
        RedisMissing: ``redis-server`` is not installed.
    """

    kind = "redis"

    def __init__(self, *, name: str | None = None, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisMissing(INSTALL_REDIS)
        self.port = free_port()
        self._go_live(name, lambda: self._start(binary, timeout))

    def _start(self, binary: str, timeout: float, attempts: int = 3) -> None:
        deadline = time.monotonic() + timeout
        for attempt in range(1, attempts + 1):
            self.process = spawn(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            stop_at_exit(self)
            # an external process: nothing to await but its port, and only ours (not whoever else took it)
            while not (listens_on(self.process, self.port) and self._ours_answers()):
                if self.process.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port} within {timeout} s")
                time.sleep(0.02)
            else:
                return
            # it exited: most likely another program took the free port between our look and its bind
            status = self.process.returncode
            if attempt == attempts or time.monotonic() > deadline:
                tried = "1 free port" if attempt == 1 else f"{attempt} free ports"
                raise RuntimeError(
                    f"redis-server did not start: it exited with status {status} on {tried} (the last "
                    f"{self.port}); run `redis-server --port {self.port}` in a terminal to see why")
            self.process = None
            self.port = free_port()

    def _ours_answers(self) -> bool:
        """Our redis-server answers on our port: INFO's ``process_id`` is our child's, not that of whoever else
        took the port (a refused, half-started or silent listener is not an error here, just not yet)."""
        assert self.process is not None
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=1,
                             retry=Retry(NoBackoff(), 0))  # one try: redis-py's own retries take seconds
        try:
            return client.info("server").get("process_id") == self.process.pid
        except redis.exceptions.RedisError:
            return False
        finally:
            client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (safe to call twice)."""
        self._end_process()
        _loop.unregister(self)

    def __repr__(self) -> str:
        return f"<RedisServer {self.name!r} {self.url if self.running else 'stopped'}>"


class SocketIOProcess(ChildProcess, _loop.LiveObject):
    """The course's Socket.IO chat app in a process of its own.

    Args:
        redis_url: share rooms and broadcasts with other processes through this Redis
            (``None``: this process is on its own).
        name: as for every wskit server; re-creating one of the same name replaces it.
        timeout: seconds the process has to start listening; past them it is killed.

    Raises:
        TimeoutError: the process did not start within ``timeout`` (nothing is left running or registered).

    Attributes:
        url: ``http://127.0.0.1:port``.
        pid: the process id.
    """

    kind = "sio-process"

    def __init__(self, *, redis_url: str | None = None, name: str | None = None, timeout: float = 30.0,
                 _process: subprocess.Popen[bytes] | None = None) -> None:  # started already (start_socketio_cluster)
        self.redis_url = redis_url
        self._go_live(name, lambda: self._start(timeout, _process))

    def _start(self, timeout: float, process: subprocess.Popen[bytes] | None) -> None:
        self.process = process if process is not None else _spawn_app(self.redis_url)
        stop_at_exit(self)
        try:
            line = _read_line(self.process, timeout)  # the child says where it listens, once it does
        except TimeoutError:
            self.kill()  # hung: it would not hear a polite stop either
            raise TimeoutError(f"the Socket.IO process did not start within {timeout} s") from None
        if not line.startswith("listening "):
            raise RuntimeError(f"the Socket.IO process did not start: {line!r}")
        self.url = line.split()[1]
        self.pid = self.process.pid

    @property
    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system), from psutil."""
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        """Stop the process: it exits when its stdin closes (killed if it does not); safe to call twice."""
        self._end_process(stdin=True)
        _loop.unregister(self)

    def __repr__(self) -> str:
        state = f"{self.url} pid {self.pid}" if self.running else "stopped"
        broker = " via Redis" if self.redis_url else " alone"
        return f"<SocketIOProcess {self.name!r} {state}{broker}>"


def _app_command(redis_url: str | None) -> list[str]:
    command = [sys.executable, "-m", "wskit", "sio-app"]
    if redis_url:
        command += ["--redis", redis_url]
    return command


def _spawn_app(redis_url: str | None) -> subprocess.Popen[bytes]:
    return spawn(_app_command(redis_url), stdout=subprocess.PIPE, stdin=subprocess.PIPE)


def start_socketio_cluster(count: int, *, redis_url: str | None = None, name: str = "node") -> list[SocketIOProcess]:
    """Start ``count`` processes of the chat app (named ``node-1`` ...), sharing rooms through ``redis_url``.

    They start side by side (the time of one start, not of ``count``); if one fails, or the cell is interrupted,
    none of the others is left running.
    """
    spawned: list[subprocess.Popen[bytes]] = []
    nodes: list[SocketIOProcess] = []
    try:
        for _ in range(count):
            spawned.append(_spawn_app(redis_url))
        for i, process in enumerate(spawned):
            node = SocketIOProcess.__new__(SocketIOProcess)
            node.name = f"{name}-{i + 1}"
            nodes.append(node)  # before it starts: an interrupt at any moment leaves nothing behind
            node.__init__(redis_url=redis_url, name=node.name, _process=process)  # type: ignore[misc]
    except BaseException:  # one failed, or the cell was interrupted: stop them all (stopping twice is safe)
        for node in nodes:
            with contextlib.suppress(Exception):  # the first error is the one to see; the others still stop
                node.stop()
        for process in spawned:  # those no node took yet
            end(process, stdin=True)
        raise
    return nodes
