"""How records cross from the wskit loop thread to widgets: a queue per widget, one UI thread per process.

The loop thread carries the traffic; a widget must never slow it down nor race with itself. So:

* :class:`Feed` subscribes to a traffic log with a callback that only appends the record to a deque and, if the
  widget is not already due, wakes the pump. That is all the loop thread ever does for a widget.
* :class:`Pump` is one daemon thread, ``wskit-redraw``, for the whole process. At most ``20`` times a second it
  drains every due widget, in the order records arrived; it is the only thread that changes a widget's synced
  state or sends its comm messages (the one writer per widget). Actions coming from the browser or a cell that
  change a widget are queued to it too, so they run in order with the updates.
* One long-lived thread rather than timers: on ipykernel every thread that sends comm messages gets a ZeroMQ
  socket of its own. The thread exits by itself once it has nothing to do and the wskit loop thread is gone
  (after ``wskit.stop_all()``) for :data:`IDLE_EXIT` seconds, so a notebook's last cell leaves no thread behind
  (the re-run test joins it for up to 1 s); the next record starts it again.
* :func:`replace` makes a widget created by a re-run cell take the place of the one the previous run made at
  the same place (cell source, line and n-th call in that run): the old one is closed and unsubscribed, so
  running ``panel = MessagePanel(c)`` 200 times leaves one subscriber, not 200.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["PUMP", "Feed", "Pump", "cell_site", "replace"]

THREAD_NAME = "wskit-redraw"
LOOP_THREAD_NAME = "wskit-loop"  # wskit.live.loop.THREAD_NAME (widgets do not import live)
IDLE_EXIT = 0.5  # seconds with nothing to do, and no wskit loop, before the UI thread exits


class Pump:
    """The single UI thread: drains due widgets at most ``rate`` times a second.

    Args:
        rate: ticks a second; each due widget sends at most one update per tick.
    """

    def __init__(self, rate: float = 20.0) -> None:
        self.interval = 1.0 / rate
        self._cond = threading.Condition(threading.Lock())
        self._due: dict[int, Any] = {}  # id -> sink (a dict keeps the order widgets became due)
        self._actions: deque[Callable[[], None]] = deque()
        self._thread: threading.Thread | None = None
        self._last = 0.0  # when the last tick was (kept across restarts of the thread)
        self.ticks = 0
        self.cpu = 0.0  # CPU seconds the UI thread spent on widgets (for benchmarks)

    # -- any thread --

    def wake(self, sink: Any) -> None:
        """``sink`` has work: call ``sink.drain()`` on the UI thread at the next tick."""
        with self._cond:
            self._due[id(sink)] = sink
            self._ensure_thread()
            self._cond.notify()

    def call(self, action: Callable[[], None]) -> None:
        """Run ``action()`` on the UI thread, in order with the updates (for clicks and cell calls)."""
        with self._cond:
            self._actions.append(action)
            self._ensure_thread()
            self._cond.notify()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """The UI thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def in_thread(self) -> bool:
        """Called on the UI thread."""
        return threading.current_thread() is self._thread

    # -- the UI thread --

    def _run(self) -> None:
        last = self._last
        while True:
            with self._cond:
                idle_since = time.monotonic()
                while not self._due and not self._actions:
                    if time.monotonic() - idle_since >= IDLE_EXIT and not _loop_alive():
                        self._thread = None
                        self._last = last
                        return
                    self._cond.wait(0.1)
                actions = list(self._actions)
                self._actions.clear()
            started = time.thread_time()
            for action in actions:
                _safely(action)
            self.cpu += time.thread_time() - started
            delay = last + self.interval - time.monotonic()
            if delay > 0 and not actions:
                with self._cond:  # wait for the tick, but an action (a click) runs at once
                    self._cond.wait_for(lambda: bool(self._actions), delay)
                    if self._actions:
                        continue
            with self._cond:
                due = list(self._due.values())
                self._due.clear()
            if not due:
                continue
            last = time.monotonic()
            self.ticks += 1
            started = time.thread_time()
            for sink in due:
                _safely(sink.drain)
            self.cpu += time.thread_time() - started

    def drain_now(self, sink: Any) -> None:
        """Drain ``sink`` on the calling thread (tests, and a widget's first draw before anyone sees it)."""
        with self._cond:
            self._due.pop(id(sink), None)
        sink.drain()


def _loop_alive() -> bool:
    return any(t.name == LOOP_THREAD_NAME and t.is_alive() for t in threading.enumerate())


def _safely(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # a broken widget must not stop the others' updates
        print(f"wskit widgets: update failed: {exc!r}", file=sys.stderr)


PUMP = Pump()


class Feed:
    """Records of one or more traffic logs, queued for one widget.

    The log's subscriber is the feed, which holds the widget weakly: a widget that is garbage is no longer
    called (the feed unsubscribes itself), and :meth:`close` unsubscribes at once.

    Args:
        logs: the traffic logs to follow.
        widget: the owner; its ``_drain(records)`` is called on the UI thread with ``(log index, record)``
            pairs, oldest first.
        pump: the UI thread (the process's one by default).
        armed: wake the UI thread for new records at once; with ``False`` they are only queued until
            :meth:`arm` (so the widget can read the log's earlier records first, with no second writer).
    """

    def __init__(self, logs: list[Any], widget: Any, pump: Pump = PUMP, armed: bool = True) -> None:
        self.queue: deque[tuple[int, Any]] = deque()
        self.pump = pump
        self.due = not armed  # "already due" keeps the pushes from waking the pump
        self.closed = False
        self._widget = weakref.ref(widget)
        self._callbacks = []
        self._logs = list(logs)
        for index, log in enumerate(self._logs):
            callback = self._pusher(index)
            log.subscribe(callback, raw=True)  # the log's entry: decoded to a record in drain(), off the loop
            self._callbacks.append(callback)

    def _pusher(self, index: int) -> Callable[[Any], None]:
        queue, pump = self.queue, self.pump

        def push(entry: Any) -> None:  # on the loop thread: append and, at most once per drain, wake
            queue.append((index, entry))
            if not self.due:
                self.due = True
                pump.wake(self)

        return push

    def arm(self) -> None:
        """Start waking the UI thread (and wake it now if records were queued meanwhile)."""
        self.due = False
        if self.queue:
            self.due = True
            self.pump.wake(self)

    def drain(self) -> None:
        """Hand what is queued to the widget (UI thread)."""
        self.due = False
        widget = self._widget()
        if widget is None or self.closed:
            self.close()
            return
        items = []
        queue = self.queue
        logs = self._logs
        while queue:
            index, entry = queue.popleft()
            items.append((index, logs[index].record_of(entry)))
        widget._drain(items)

    def close(self) -> None:
        """Stop following the logs; forget what is queued."""
        self.closed = True
        for log, callback in zip(self._logs, self._callbacks, strict=True):
            log.unsubscribe(callback)
        self._callbacks = [None] * len(self._logs)
        self.queue.clear()


# --- a re-run cell replaces the widgets its previous run made -----------------------------------------------------

_sites: dict[tuple, weakref.ref] = {}
_counts: dict[tuple, int] = {}
_run_id: list[Any] = [None]


def cell_site(skip: int = 0) -> tuple | None:
    """Where in a notebook cell the widget is being made: (cell file, line, n-th call there in this run).

    ipykernel compiles each cell to a file named after a hash of its source, so re-running the cell gives the
    same file and line. The n-th call counts calls at that line during one run of the cell, so two widgets on
    one line, or made in a loop, are told apart. ``None`` outside a notebook cell (scripts, tests).
    """
    frame = sys._getframe(1 + skip)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("wskit"):
        frame = frame.f_back
    if frame is None:
        return None
    filename = frame.f_code.co_filename
    if "ipykernel_" not in filename and not filename.startswith("<ipython-input"):
        return None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        run = getattr(shell, "execution_count", None)
    except ImportError:  # pragma: no cover - a notebook cell always has IPython
        run = None
    if run != _run_id[0]:
        _run_id[0] = run
        _counts.clear()
    line = (filename, frame.f_lineno)
    nth = _counts.get(line, 0)
    _counts[line] = nth + 1
    return (*line, nth)


def replace(widget: Any, kind: str, site: tuple | None) -> None:
    """Close the ``kind`` widget the previous run of this cell made at ``site``; remember ``widget`` there."""
    if site is None:
        return
    key = (kind, *site)
    old = _sites.get(key)
    old = old() if old is not None else None
    if old is not None and old is not widget:
        try:
            old.close()
        except Exception as exc:  # pragma: no cover - a widget that fails to close must not stop the new one
            print(f"wskit widgets: closing the replaced {kind} failed: {exc!r}", file=sys.stderr)
    _sites[key] = weakref.ref(widget)
