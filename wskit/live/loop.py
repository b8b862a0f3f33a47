"""One background asyncio loop thread, shared by everything wskit starts.

A Jupyter kernel already runs an asyncio loop of its own, so ``asyncio.run()``
fails in a cell. wskit's servers and clients live instead on a second loop in
a daemon thread named ``wskit-loop``. Plain cells reach it with :func:`run`
(which blocks the cell until the coroutine is done); ``await`` in a cell
reaches it with :func:`arun`.

The loop starts on first use and stops in :func:`stop_all`, after every live
object has been stopped, so that no wskit thread, socket or executor thread
is left behind. The next use starts a fresh loop.

The registry below also gives *names* to live objects: creating one with the
name of a running one (a re-run cell) stops the old one first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import sys
import threading
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

__all__ = ["THREAD_NAME", "arun", "get_loop", "live_objects", "run", "stop_all"]

THREAD_NAME = "wskit-loop"

T = TypeVar("T")

_lock = threading.RLock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


class Live(Protocol):
    """Anything :func:`stop_all` can stop."""

    name: str

    def stop(self) -> None: ...


class LiveObject:
    """What every wskit server and client shares: a name in the registry, ``with`` support, ``stop()``."""

    kind = "live"
    name: str

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop this object: the one verb that closes every server and client (``stop`` is the same)."""
        self.stop()

    def _go_live(self, name: str | None, start: Any, timeout: float | None = 10.0) -> None:
        """Take a name in the registry, then run ``start()`` on the loop; leave the registry if it fails."""
        self.name = register(self, self.kind, name)
        try:
            run(start(), timeout)
        except BaseException:
            unregister(self)
            raise

    def _stop_on_loop(self, coro: Coroutine[Any, Any, Any], timeout: float) -> None:
        """Run the closing coroutine on the loop, then leave the registry whatever happened."""
        try:
            run(coro, timeout)
        finally:
            unregister(self)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_live: dict[str, Live] = {}
_counter = itertools.count(1)


def get_loop() -> asyncio.AbstractEventLoop:
    """The shared background loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive():
            return _loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=main, name=THREAD_NAME, daemon=True)
        thread.start()
        ready.wait()
        _loop, _thread = loop, thread
        return loop


def _in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run(coro: Coroutine[Any, Any, T], timeout: float | None = 10.0) -> T:
    """Run ``coro`` on the background loop; block until it is done.

    Args:
        coro: the coroutine.
        timeout: seconds to wait; ``None`` waits for ever.

    Raises:
        TimeoutError: it took longer than ``timeout`` (it is cancelled).
        RuntimeError: called from the loop thread itself (it would deadlock).
    """
    if _in_loop_thread():
        coro.close()
        raise RuntimeError(
            "wskit: a blocking call was made on the wskit loop thread; "
            "inside a server handler use the async API (await ...)"
        )
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        if future.done():  # the coroutine itself raised TimeoutError: keep its message
            raise
        future.cancel()
        raise TimeoutError(f"wskit: no result within {timeout} s") from None


async def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the background loop from another loop (a cell's)."""
    if _in_loop_thread():
        return await coro
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    return await asyncio.wrap_future(future)


# --- the registry of live objects ---------------------------------------------


def cell_name(kind: str) -> str | None:
    """A stable name for an object created at the top level of a notebook cell.

    ipykernel compiles each cell to a file named after a hash of its source,
    so re-running the same cell gives the same file name and line: the new
    object takes the old one's name and replaces it. Objects created inside
    functions, or outside a kernel, get no such name.
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("wskit"):
        frame = frame.f_back
    if frame is None or frame.f_code.co_name != "<module>":
        return None
    filename = frame.f_code.co_filename
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return f"{kind}@{os.path.basename(filename)}:{frame.f_lineno}"
    return None


def register(obj: Live, kind: str, name: str | None) -> str:
    """Record ``obj`` as live under ``name``; stop any live object of that name.

    Returns:
        The name given to ``obj`` (``name``, a cell name, or ``kind-N``).
    """
    name = name or cell_name(kind) or f"{kind}-{next(_counter)}"
    with _lock:
        old = _live.pop(name, None)
    if old is not None and old is not obj:
        old.stop()
    with _lock:
        _live[name] = obj
    return name


def unregister(obj: Live) -> None:
    """Forget ``obj`` (it has stopped)."""
    with _lock:
        if _live.get(obj.name) is obj:
            del _live[obj.name]


def live_objects() -> list[Live]:
    """Every server and client wskit started that is still live, oldest first."""
    with _lock:
        return list(_live.values())


async def _shutdown() -> None:
    loop = asyncio.get_running_loop()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


def stop_all(timeout: float = 10.0) -> None:
    """Stop every server and client wskit started, then the loop thread.

    Safe to call at any time, any number of times. Afterwards no wskit thread
    or socket remains; the next server or client starts a fresh loop.
    """
    global _loop, _thread
    for obj in reversed(live_objects()):
        try:
            obj.stop()
        except Exception as exc:  # one broken object must not keep the others running
            print(f"wskit: stopping {obj.name!r} failed: {exc!r}", file=sys.stderr)
        unregister(obj)
    with _lock:
        loop, thread = _loop, _thread
        _loop = _thread = None
    if loop is None or thread is None:
        return
    if thread.is_alive():
        future = asyncio.run_coroutine_threadsafe(_shutdown(), loop)
        try:
            future.result(timeout)
        except Exception as exc:  # pragma: no cover - only on a wedged loop
            print(f"wskit: loop shutdown: {exc!r}", file=sys.stderr)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
    if not thread.is_alive():
        loop.close()

