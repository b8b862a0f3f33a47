"""One background asyncio loop thread, shared by everything wskit starts.

A Jupyter kernel already runs an asyncio loop of its own, so ``asyncio.run()``
fails in a cell. wskit's servers and clients live instead on a second loop in
a daemon thread named ``wskit-loop``. Plain cells reach it with :func:`run`
(which blocks the cell until the coroutine is done); ``await`` in a cell
reaches it with :func:`arun`.

Interrupts and timeouts
    Every blocking call is bounded (``run`` waits 10 s unless told otherwise)
    and interruptible: when the cell is interrupted (the kernel's stop button,
    ``KeyboardInterrupt``) or the time is up, the coroutine is *cancelled on
    the loop* and ``run`` waits for it to finish cancelling (at most
    :data:`CANCEL_GRACE` seconds) before raising. Nothing goes on in the
    background after the cell has returned.

The loop starts when a server or client is made, and stops in :func:`stop_all`
after every live object has been stopped, so that no wskit thread, socket or
executor thread is left behind. Nothing but a *new* server or client starts it
again: a call on an object made before :func:`stop_all` raises
:class:`~wskit.live.errors.LiveError` and starts no thread.

The loop is hard to kill: a handler that raises ``SystemExit`` or
``KeyboardInterrupt`` closes its own connection (1011) and nothing else, and
if anything still escapes a callback the loop logs it and runs on. A watchdog
thread (``wskit-watchdog``) notices when code running on the loop blocks it
for longer than :data:`BLOCK_THRESHOLD` seconds (``time.sleep`` in a handler)
and reports it: a warning naming the function and its ``file:line``, and an
``ERROR`` record in the log of the server whose handler it was.

Names: which object a re-run replaces
    Every live object has a name in a registry; making an object with the name
    of a live one stops the old one first (a re-run cell replaces what it made
    the last time). The name is, in order:

    1. ``name=`` when given;
    2. the variable it is assigned to, when it is made at the top level of a
       notebook cell, as in ``srv = wskit.EchoServer()`` (read from the cell's
       bytecode: the ``STORE_NAME`` right after the call). So
       ``alice = wskit.connect(u); bob = wskit.connect(u)`` makes two live
       clients named ``alice`` and ``bob``, and re-running the cell replaces
       both;
    3. otherwise a unique name, ``kind-N``: objects made in a ``for`` or
       ``while`` loop, in a comprehension, inside a function, or without an
       assignment never replace each other.

    Objects with unique names are listed by :func:`live_objects` and stopped
    by their ``close()`` (or a ``with`` block) and by :func:`stop_all`, which
    always stops everything. When more than :data:`UNNAMED_WARNING` of them
    are live at once, wskit warns once, since that usually means a function
    that makes servers or clients is called again and again without closing
    them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dis
import functools
import gc
import itertools
import sys
import threading
import time
import traceback
import types
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from .errors import LiveError

__all__ = [
    "BLOCK_THRESHOLD",
    "CANCEL_GRACE",
    "DEFAULT_TIMEOUT",
    "READ_SIZE",
    "THREAD_NAME",
    "UNNAMED_WARNING",
    "arun",
    "assigned_name",
    "get_loop",
    "live_objects",
    "read_small",
    "run",
    "stop_all",
    "stop_order",
]

THREAD_NAME = "wskit-loop"
WATCHDOG_NAME = "wskit-watchdog"
DEFAULT_TIMEOUT = 10.0
"""Seconds a blocking call waits by default."""
CANCEL_GRACE = 1.0
"""Seconds a cancelled coroutine is given to clean up after an interrupt or a timeout."""
BLOCK_THRESHOLD = 0.5
"""Seconds code on the loop may run without yielding before the watchdog reports it."""
UNNAMED_WARNING = 50
"""Live objects with unique (not re-run-replaceable) names before wskit warns, once."""
READ_SIZE = 64 * 1024
"""Bytes each read of a connection's socket asks for (asyncio asks 256 KiB; see :func:`read_small`)."""

T = TypeVar("T")

_lock = threading.RLock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_watchdog: _Watchdog | None = None
_generation = 0  # bumped by stop_all(): objects of an older generation belong to a stopped loop
_stopping = False


class Live(Protocol):
    """Anything :func:`stop_all` can stop."""

    name: str

    def stop(self) -> None: ...


class LiveObject:
    """What every wskit server and client shares: a name in the registry, ``with`` support, ``close()``."""

    kind = "live"
    name: str
    _generation: int = -1

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop this object: the one verb that closes every server and client (``stop`` is the same)."""
        self.stop()

    def _go_live(self, name: str | None, start: Callable[[], Any], timeout: float | None = DEFAULT_TIMEOUT) -> None:
        """The one way a live object starts: take a name in the registry (replacing the object a re-run cell
        made before), then ``start()``; if anything fails (or the cell is interrupted), ``stop()`` what was
        started and leave the registry.

        ``start()`` either returns a coroutine, run on the loop (servers, clients), or does its work on this
        thread and returns ``None`` (child processes, whose parent-death signal belongs to this thread).
        """
        self.name = register(self, self.kind, name)
        try:
            work = start()
            if work is not None:
                get_loop()  # made on purpose: the one place (with register) that may start the loop
                run(work, timeout)
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to see
                self.stop()
            unregister(self)
            raise

    def _check_live(self) -> None:
        """Raise a clear :class:`LiveError` if :func:`stop_all` has stopped this object's loop."""
        if self._generation != _generation or _loop is None:
            noun = "client" if "client" in self.kind else "object"
            raise LiveError(
                f"this {noun} ({getattr(self, 'name', '?')!r}) was stopped by wskit.stop_all(); create a new one"
            )

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = DEFAULT_TIMEOUT) -> T:
        """:func:`run` for this object: refuses (and starts no thread) once :func:`stop_all` stopped it."""
        try:
            self._check_live()
        except LiveError:
            coro.close()
            raise
        return run(coro, timeout)

    def _stop_on_loop(self, coro: Coroutine[Any, Any, Any], timeout: float) -> None:
        """Run the closing coroutine on the loop, then leave the registry whatever happened."""
        try:
            if _loop is None:  # the loop is gone (stop_all): there is nothing left to close
                coro.close()
                return
            run(coro, timeout)
        finally:
            unregister(self)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_live: dict[str, Live] = {}
_counter = itertools.count(1)
_warned_unnamed = False


# --- the loop thread ------------------------------------------------------------------


def _loop_main(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    while True:
        try:
            loop.run_forever()
        except BaseException as exc:  # a callback let SystemExit/KeyboardInterrupt out: log it, keep running
            print(
                f"wskit: the loop survived {exc!r} raised by code running on it:\n"
                + "".join(traceback.format_exception(exc)),
                file=sys.stderr,
            )
            if not loop.is_closed():
                continue
        return  # stopped on purpose (stop_all)


def get_loop() -> asyncio.AbstractEventLoop:
    """The shared background loop, started if it is not running.

    Only servers and clients being *made* call this; every other call reaches
    the loop through :func:`run`, which never starts one.
    """
    global _loop, _thread, _watchdog
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive():
            return _loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=_loop_main, args=(loop, ready), name=THREAD_NAME, daemon=True)
        thread.start()
        ready.wait()
        _loop, _thread = loop, thread
        _watchdog = _Watchdog(loop, thread)
        return loop


def _running_loop() -> asyncio.AbstractEventLoop:
    """The loop if it runs; never starts one."""
    loop, thread = _loop, _thread
    if loop is None or thread is None or not thread.is_alive() or loop.is_closed():
        raise LiveError(
            "wskit's loop is not running: wskit.stop_all() stopped it (or nothing was started). "
            "This object belongs to the stopped loop; create a new server or client."
        )
    return loop


def _in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def _loop_thread_hint() -> str:
    """The exact line to type instead of a blocking call made on the loop thread."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return "use the async API (await ...)"
    method = frame.f_code.co_name
    obj = frame.f_locals.get("self")
    if obj is None:
        return f"use the async form of {method}() (await ...)"
    caller = frame.f_back  # the handler that made the call: what does it call the object?
    found = [key for key, value in {**(caller.f_globals if caller else {}), **(caller.f_locals if caller else {})}
             .items() if value is obj and key.isidentifier()] if caller is not None else []
    var = found[0] if found else str(getattr(obj, "name", "") or "")
    if not var.isidentifier():
        var = "srv" if "server" in type(obj).__name__.lower() else "obj"
    if hasattr(type(obj), "a" + method):
        return f"use `await {var}.a{method}(...)`"
    if getattr(obj, "sio", None) is not None and hasattr(obj.sio, method):
        return f"use `await {var}.sio.{method}(...)`"
    if method in ("send", "recv", "ping", "close") and hasattr(type(obj), "connection"):
        return f"use `await {var}.connection.{method}(...)`"
    return f"use the async API of {type(obj).__name__} (await ...) instead of {var}.{method}()"


class _Call:
    """One coroutine run on the loop for a blocked thread, which can cancel it and wait for the cleanup."""

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.done = threading.Event()
        self.task: asyncio.Task[Any] | None = None

    def start(self) -> None:  # on the loop
        self.task = asyncio.get_running_loop().create_task(self.coro)
        self.task.add_done_callback(lambda _: self.done.set())

    def cancel(self) -> None:  # on the loop
        if self.task is not None:
            self.task.cancel()


TICK = 0.1
"""Seconds between calls of :func:`run`'s ``tick`` while it waits."""


def run(
    coro: Coroutine[Any, Any, T],
    timeout: float | None = DEFAULT_TIMEOUT,
    *,
    tick: Callable[[], None] | None = None,
) -> T:
    """Run ``coro`` on the background loop; block until it is done.

    A ``KeyboardInterrupt`` while waiting (the kernel's interrupt) cancels
    the coroutine on the loop and waits up to :data:`CANCEL_GRACE` seconds
    for it to clean up before it is raised again; so does a timeout.

    Args:
        coro: the coroutine.
        timeout: seconds to wait (10 by default); ``None`` waits for ever
            (still interruptible).
        tick: called every :data:`TICK` seconds *on the waiting thread* (the
            cell's) while the coroutine runs, and once at the end: progress
            bars are widgets, and widgets are never touched from the loop
            thread, so the coroutine counts and ``tick`` draws.

    Raises:
        TimeoutError: it took longer than ``timeout`` (it is cancelled).
        RuntimeError: called from the loop thread itself (it would deadlock);
            the message says what to type instead.
        LiveError: the loop is not running (stopped by :func:`stop_all`).
    """
    if _in_loop_thread():
        coro.close()
        raise RuntimeError(
            "wskit: a blocking call was made on the wskit loop thread (inside a handler); "
            + _loop_thread_hint()
        )
    try:
        loop = _running_loop()
    except LiveError:
        coro.close()
        raise
    call = _Call(coro)
    try:
        loop.call_soon_threadsafe(call.start)
    except RuntimeError:  # closed between the check and now
        coro.close()
        raise LiveError("wskit's loop was stopped by wskit.stop_all(); create a new server or client") from None
    try:
        finished = _wait(call.done, timeout, tick)
    except BaseException:  # KeyboardInterrupt: stop the work on the loop too, then let the interrupt through
        _cancel(loop, call)
        raise
    if not finished:
        _cancel(loop, call)
        if not call.done.is_set() or call.task is None or call.task.cancelled():
            raise TimeoutError(f"wskit: no result within {timeout} s")
    assert call.task is not None
    if call.task.cancelled():
        raise LiveError("wskit: the call was cancelled (wskit.stop_all() or the object closed while it ran)")
    return call.task.result()


def _wait(done: threading.Event, timeout: float | None, tick: Callable[[], None] | None) -> bool:
    """``done.wait(timeout)``, calling ``tick()`` every :data:`TICK` seconds meanwhile and once at the end."""
    if tick is None:
        return done.wait(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if done.wait(TICK if left is None else max(0.0, min(TICK, left))):
            tick()
            return True
        tick()
        if left is not None and left <= TICK:
            return done.is_set()


def _cancel(loop: asyncio.AbstractEventLoop, call: _Call) -> None:
    """Cancel ``call`` on the loop and wait (bounded) until it has finished cleaning up."""
    try:
        loop.call_soon_threadsafe(call.cancel)
    except RuntimeError:  # the loop is closed: nothing runs any more
        return
    call.done.wait(CANCEL_GRACE)


def read_small(transport: Any) -> None:
    """Have asyncio's socket ``transport`` ask each ``recv()`` for :data:`READ_SIZE` bytes instead of 256 KiB.

    asyncio's selector transport reads with ``sock.recv(self.max_size)``, a class attribute of 256 KiB, and
    ``recv()`` allocates that much for every read, however few bytes arrived. On Linux with glibc an allocation
    that size is past the heap's trim threshold: each small read grows the heap and trims it again (or maps and
    unmaps the memory), about 25 µs a read on the course's 2-core machine against 3 µs at 64 KiB, and a WebSocket
    echo is two reads (python/cpython#85451 reports the same pattern). A connection with more than 64 KiB waiting
    is read again on the next loop turn. Any other transport (uvloop's, a TLS one, which reads into a buffer of its
    own) is left as it is.
    """
    cls = type(transport)
    if cls.__module__ == "asyncio.selector_events" and getattr(cls, "max_size", 0) > READ_SIZE:
        transport.max_size = READ_SIZE


def post(callback: Callable[..., object], *args: Any) -> None:
    """Call ``callback(*args)`` on the loop soon, without waiting: the one-way hop of the fast paths.

    Raises:
        LiveError: the loop is not running (stopped by :func:`stop_all`).
    """
    try:
        _running_loop().call_soon_threadsafe(callback, *args)
    except RuntimeError:  # closed between the check and now
        raise LiveError("wskit's loop was stopped by wskit.stop_all(); create a new server or client") from None


async def arun(coro: Coroutine[Any, Any, T], timeout: float | None = DEFAULT_TIMEOUT) -> T:
    """Await ``coro`` on the background loop from another loop (a cell's).

    Args:
        coro: the coroutine.
        timeout: seconds to wait (``None``: no limit). On a timeout, or when
            the awaiting task is cancelled (an interrupted cell), the
            coroutine is cancelled on the wskit loop too.

    Raises:
        TimeoutError: it took longer than ``timeout``.
    """
    if _in_loop_thread():
        return await asyncio.wait_for(coro, timeout)
    try:
        loop = _running_loop()
    except LiveError:
        coro.close()
        raise
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    waiting = asyncio.wrap_future(future)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        # Wake up every 0.1 s: ipykernel turns the stop button into a callback on the kernel's loop, which
        # runs only when that loop wakes; a single long wait here would defer the interrupt to its end.
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"wskit: no result within {timeout} s")
            done, _ = await asyncio.wait({waiting}, timeout=0.1 if left is None else min(0.1, left))
            if done:
                return waiting.result()
    except BaseException:
        future.cancel()
        raise


# --- the watchdog: reports code that blocks the loop ----------------------------------------

_FRAMEWORK = ("asyncio.", "websockets.", "wskit.live.", "socketio.", "engineio.", "aiohttp.", "concurrent.",
              "selectors", "threading", "contextlib", "_weakrefset", "weakref")


def _culprit(stack: list[types.FrameType]) -> types.FrameType | None:
    """The frame to blame in a blocked loop thread's ``stack`` (outermost first): the first outside the libraries.

    ``None`` when there is none, or when what runs is a garbage-collection callback (``gc.callbacks``: a profiler's,
    hypothesis's) or a weak reference's clean-up: the collector ran, not the learner's code, and the line it
    interrupted is not to blame (seen in CI with tracemalloc on and another process busy).
    """
    collecting = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    if any(f.f_code in collecting for f in stack):
        return None
    return next((f for f in stack if not str(f.f_globals.get("__name__", "")).startswith(_FRAMEWORK)), None)


class _Watchdog:
    """A thread that checks every 0.1 s that the loop still runs its callbacks.

    When one callback runs longer than :data:`BLOCK_THRESHOLD`, the loop
    thread's stack is sampled once (``sys._current_frames()``): the first
    frame outside asyncio, websockets and wskit is the code to blame. Cost:
    one ``call_soon_threadsafe`` every 0.1 s; the thread stops with the loop.
    """

    interval = 0.1

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.loop, self.loop_thread = loop, thread
        self.posted: float | None = None  # when the tick the loop has not run yet was posted (None: it ran)
        self.stopped = threading.Event()
        self.reports = 0
        self.thread = threading.Thread(target=self._main, name=WATCHDOG_NAME, daemon=True)
        self.thread.start()

    def _tick(self) -> None:  # on the loop
        self.posted = None

    def _main(self) -> None:
        """Post a tick; while the loop has not run it, measure how long it has waited.

        The lag is counted from when the waiting tick was posted, not from the loop's last tick: a watchdog that the
        machine itself held back (a busy core) then posts late, and the loop, which ran every tick it was given,
        is not reported for the watchdog's own delay.
        """
        reported = False
        while not self.stopped.wait(self.interval):
            posted = self.posted
            if posted is None:  # the loop ran the last tick: post the next one
                reported = False
                self.posted = time.monotonic()  # before posting, so the tick's None cannot be overwritten
                try:
                    self.loop.call_soon_threadsafe(self._tick)
                except RuntimeError:  # the loop is closed
                    return
                continue
            lag = time.monotonic() - posted
            if lag > BLOCK_THRESHOLD and not reported:
                reported = True
                try:
                    self._report(lag)
                except Exception as exc:  # pragma: no cover - a report must never kill the watchdog
                    print(f"wskit: watchdog report failed: {exc!r}", file=sys.stderr)

    def _report(self, lag: float) -> None:
        frame = sys._current_frames().get(self.loop_thread.ident or -1)
        stack: list[types.FrameType] = []
        while frame is not None:
            stack.append(frame)
            frame = frame.f_back
        stack.reverse()  # outermost first
        culprit = _culprit(stack)
        if culprit is None:  # the libraries' own work (a big message, say) or the collector's: nothing to name
            return
        code = culprit.f_code
        where = f"{code.co_filename}:{code.co_firstlineno}"
        message = (
            f"wskit: {code.co_name}() ({where}) has blocked the wskit loop for over {lag:.1f} s "
            f"(now at line {culprit.f_lineno}); every server and client in this kernel waits for it. "
            "Use `await asyncio.sleep(...)` instead of time.sleep(), and await I/O instead of blocking on it."
        )
        self.reports += 1
        for f in stack:  # the server whose connection ran the blocking code gets a record in its log
            owner = f.f_locals.get("self") if f.f_code.co_name in ("_handle", "_serve") else None
            log = getattr(owner, "log", None)
            if log is not None and hasattr(log, "add"):
                conn = getattr(f.f_locals.get("ws"), "wskit_conn", 0)
                log.add("event", "ERROR", conn=conn if isinstance(conn, int) else 0, info=message)
                break
        warnings.warn_explicit(message, RuntimeWarning, code.co_filename, culprit.f_lineno, module=code.co_name)

    def stop(self) -> None:
        self.stopped.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(1.0)


# --- the registry of live objects ---------------------------------------------

_FACTORY_CODES: set[types.CodeType] = set()


def factory(function: Callable[..., T]) -> Callable[..., T]:
    """Mark ``function`` as making one live object, so ``x = function(...)`` names it ``x``."""
    _FACTORY_CODES.add(function.__code__)
    return function


_BACKWARD_JUMPS = ("JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
                   "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE", "JUMP_ABSOLUTE")
_AWAIT_STEPS = ("CACHE", "SEND", "YIELD_VALUE", "RESUME", "JUMP_BACKWARD_NO_INTERRUPT", "END_SEND",
                "CLEANUP_THROW", "EXTENDED_ARG", "NOP")


@functools.lru_cache(maxsize=256)
def _instructions(code: types.CodeType) -> tuple[dis.Instruction, ...]:
    return tuple(dis.get_instructions(code))


def _stored_name(code: types.CodeType, lasti: int) -> str | None:
    """The variable the value of the call at ``lasti`` is stored in, or None (no store, or in a loop)."""
    instructions = _instructions(code)
    # f_lasti may point into the call's inline cache entries: take the instruction that holds it
    index = next((i for i in range(len(instructions) - 1, -1, -1) if instructions[i].offset <= lasti), None)
    if index is None:
        return None
    lasti = instructions[index].offset
    for ins in instructions:  # a backward jump over the call: it runs in a loop, and must not replace itself
        if ins.opname in _BACKWARD_JUMPS and ins.offset > lasti and isinstance(ins.argval, int) \
                and ins.argval <= lasti:
            return None
    for ins in instructions[index + 1:]:
        if ins.opname in _AWAIT_STEPS:
            continue
        if ins.opname in ("STORE_NAME", "STORE_GLOBAL"):
            return str(ins.argval)
        return None
    return None


def _is_cell(code: types.CodeType) -> bool:
    filename = code.co_filename
    return code.co_name == "<module>" and ("ipykernel_" in filename or filename.startswith("<ipython-input"))


def assigned_name(obj: object = None, *, depth: int = 1) -> str | None:
    """The variable a new live object is assigned to at the top level of a notebook cell, or None.

    Walks up from the caller past wskit's own frames (and ``__init__`` frames
    of ``obj`` itself, e.g. a learner's subclass). The frame just below the
    cell must be ``obj``'s own ``__init__`` or a function marked with
    :func:`factory` (``wskit.connect``): an object made by some other wskit
    function on the learner's behalf (``start_socketio_cluster``) takes no
    name from the learner's variable.
    """
    frame: types.FrameType | None = sys._getframe(depth)
    callee: types.FrameType | None = None
    while frame is not None:
        own_init = obj is not None and frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is obj
        if not (own_init or str(frame.f_globals.get("__name__", "")).startswith("wskit")):
            break
        callee, frame = frame, frame.f_back
    if frame is None or callee is None or not _is_cell(frame.f_code):
        return None
    if not (callee.f_code in _FACTORY_CODES
            or (obj is not None and callee.f_code.co_name == "__init__" and callee.f_locals.get("self") is obj)):
        return None
    try:
        return _stored_name(frame.f_code, frame.f_lasti)
    except Exception:  # pragma: no cover - bytecode we do not know: fall back to a unique name
        return None


def cell_name(kind: str) -> str | None:
    """Kept for compatibility: the variable name of the object being made (see :func:`assigned_name`)."""
    return assigned_name(depth=2)


def register(obj: Live, kind: str, name: str | None) -> str:
    """Record ``obj`` as live under ``name``; stop any live object of that name.

    Returns:
        The name given to ``obj``: ``name``, the variable it is assigned to
        at the top level of a cell, or a unique ``kind-N``.
    """
    global _warned_unnamed
    name = name or assigned_name(obj, depth=2) or f"{kind}-{next(_counter)}"
    with _lock:
        old = _live.pop(name, None)
    if old is not None and old is not obj:
        try:
            old.stop()
        except Exception as exc:  # the old object is gone either way
            print(f"wskit: stopping the old {name!r} failed: {exc!r}", file=sys.stderr)
    with _lock:
        _live[name] = obj
        with contextlib.suppress(AttributeError):  # an object with __slots__ keeps no generation
            obj._generation = _generation  # type: ignore[attr-defined]
        unnamed = sum(1 for key in _live if key.rsplit("-", 1)[-1].isdigit())
    if unnamed > UNNAMED_WARNING and not _warned_unnamed:
        _warned_unnamed = True
        warnings.warn(
            f"wskit: {unnamed} live servers/clients have no name of their own (made in a function, a loop or "
            "without `x = ...`), so re-running code does not replace them. Close them (`.close()` or a "
            "`with` block), pass name=..., or call wskit.stop_all(); wskit.live_objects() lists them.",
            RuntimeWarning,
            stacklevel=3,
        )
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
    if tasks:
        await asyncio.wait(tasks, timeout=2.0)
    await loop.shutdown_asyncgens()
    await asyncio.wait_for(loop.shutdown_default_executor(), 2.0)


def stop_order(objects: list[Live]) -> list[Live]:
    """``objects`` (oldest first) in the order to stop them: newest first, but fault proxies before everything.

    A client behind a proxy's black hole would otherwise wait out its whole close timeout for a close frame that
    cannot pass; cutting the proxy first ends its connections at once.
    """
    return sorted(reversed(objects), key=lambda obj: not getattr(obj, "stop_first", False))


def stop_all(timeout: float = DEFAULT_TIMEOUT) -> None:
    """Stop every server and client wskit started, then the loop thread.

    Safe to call at any time, any number of times. Afterwards no wskit thread
    or socket remains. Objects made before it stay stopped: a call on one
    raises :class:`LiveError`; the next server or client made starts a fresh loop.
    The newest objects stop first, except fault proxies
    (:class:`~wskit.live.faults.FaultProxy`), which stop before everything else.
    """
    global _loop, _thread, _watchdog, _generation
    for obj in stop_order(live_objects()):
        try:
            obj.stop()
        except Exception as exc:  # one broken object must not keep the others running
            print(f"wskit: stopping {obj.name!r} failed: {exc!r}", file=sys.stderr)
        unregister(obj)
    with _lock:
        loop, thread, watchdog = _loop, _thread, _watchdog
        _loop = _thread = _watchdog = None
        _generation += 1
    if watchdog is not None:
        watchdog.stop()
    if loop is None or thread is None:
        return
    if thread.is_alive() and not loop.is_closed():
        future = asyncio.run_coroutine_threadsafe(_shutdown(), loop)
        try:
            future.result(timeout)
        except Exception as exc:  # pragma: no cover - only on a wedged loop
            print(f"wskit: loop shutdown: {exc!r}", file=sys.stderr)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
    if not thread.is_alive() and not loop.is_closed():
        loop.close()
