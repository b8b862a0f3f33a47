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
import shutil
import subprocess
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["ChildProcess", "forget", "spawn", "stop_at_exit"]


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


class ChildProcess:
    """What a live object backed by one child process (``self.process``) shares: ``running`` and ``kill()``."""

    process: subprocess.Popen[Any] | None

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
