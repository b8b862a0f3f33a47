"""Child processes the kit starts (redis-server, nginx, Socket.IO and Node.js servers, echo processes).

Two rules for each of them:

* **An interrupt does not stop it.** The kernel's stop button sends SIGINT to the kernel's whole process
  group; a child in that group (redis-server, for one) would exit with the interrupted cell. So each child
  starts in a session of its own.
* **The kernel's end does stop it.** On a clean exit, :func:`stop_at_exit` objects are stopped by
  ``atexit``; if the kernel is killed, Linux sends the child SIGTERM (``setpriv --pdeathsig``, from
  util-linux, where it is installed).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

import psutil

__all__ = ["ChildProcess", "end", "forget", "free_port", "listens_on", "spawn", "stop_at_exit"]


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def spawn(command: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(command, **popen)`` in a session of its own, ended by SIGTERM if this process dies.

    The parent-death signal is tied to the thread that starts the child: start children from the thread that
    lives as long as they should (a cell's, the main thread).
    """
    setpriv = shutil.which("setpriv")
    full = [setpriv, "--pdeathsig", "TERM", *command] if setpriv is not None else list(command)
    return subprocess.Popen(full, start_new_session=True, **popen)


def end(process: subprocess.Popen[Any], *, timeout: float = 5.0, stdin: bool = False, group: bool = False) -> None:
    """The one way a child ends: asked politely, killed if it lingers, reaped, its pipes closed.

    Args:
        process: the child.
        timeout: seconds it has to exit after each step.
        stdin: ask by closing its stdin (the kit's own children exit then) instead of ``SIGTERM``.
        group: ``SIGKILL`` its whole process group at the end (nginx's workers, which may outlive their
            master); the child leads a session of its own (:func:`spawn`), so that group is its own.
    """
    if process.poll() is None:
        if stdin and process.stdin is not None:
            with contextlib.suppress(OSError):  # a broken pipe: the child is going anyway
                process.stdin.close()
        else:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


class ChildProcess:
    """What a live object backed by one child process (``self.process``) shares: ``running``, ``kill()`` and
    the way it stops (:meth:`_end_process`)."""

    process: subprocess.Popen[Any] | None = None

    @property
    def running(self) -> bool:
        """The process is alive."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """``SIGKILL``, as a crash would: the process dies at once and says no goodbye (no close frame) to its
        clients; the operating system closes its sockets."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait(5)

    def _end_process(self, *, timeout: float = 5.0, stdin: bool = False, group: bool = False) -> Any:
        """Take ``self.process`` and :func:`end` it (see there for the options); nothing left for ``atexit``.

        Returns the process that ended (``None`` if there was none: safe to call twice).
        """
        process = self.process
        if process is not None:  # taken only once it ended: an interrupt in between leaves it for the next stop()
            end(process, timeout=timeout, stdin=stdin, group=group)
            self.process = None
        forget(self)  # type: ignore[arg-type]
        return process


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (a child that binds it later may find it taken: retry)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listens_on(process: subprocess.Popen[Any], port: int) -> bool:
    """``process`` itself (not whoever else took the port) listens on ``port`` (psutil: its sockets)."""
    try:
        sockets = psutil.Process(process.pid).net_connections(kind="tcp")
    except psutil.AccessDenied:  # a system that hides them (macOS may): settle for "something answers"
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0
    except psutil.Error:  # gone: not listening
        return False
    return any(s.status == psutil.CONN_LISTEN and s.laddr and s.laddr.port == port for s in sockets)


_running: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()


def stop_at_exit(obj: _Stoppable) -> None:
    """Stop ``obj`` (its ``stop()``) when the interpreter exits, if it still runs then."""
    with _lock:
        _running.add(obj)


def forget(obj: _Stoppable) -> None:
    """``obj`` has stopped: nothing to do for it at exit."""
    with _lock:
        _running.discard(obj)


@atexit.register
def _stop_all_children() -> None:
    with _lock:
        left = list(_running)
    for obj in left:
        with contextlib.suppress(Exception):
            obj.stop()
