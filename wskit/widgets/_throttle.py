"""Coalesce many updates into at most a few redraws a second."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Throttle"]


class Throttle:
    """Call ``redraw`` at most ``max_rate`` times a second, however often :meth:`poke` is called.

    The first poke after a quiet spell redraws at once; pokes that follow
    within ``1 / max_rate`` seconds are merged into one redraw when that
    interval is up. Pokes may come from any thread. When they come from a
    thread running an event loop (the wskit loop, as records arrive), the
    delayed redraw is scheduled on that loop: no thread is started, which
    matters in a kernel, where every new thread that sends widget updates
    gets a messaging socket of its own. Elsewhere a short timer thread waits.
    """

    def __init__(self, redraw: Callable[[], None], max_rate: float = 20.0) -> None:
        self.redraw = redraw
        self.interval = 1.0 / max_rate
        self.redraws = 0
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._timer: Any = None  # an asyncio TimerHandle or a threading.Timer

    def poke(self) -> None:
        """Something changed: redraw now or soon."""
        with self._lock:
            if self._timer is not None:
                return  # a redraw is already scheduled
            delay = self._last + self.interval - time.monotonic()
            if delay > 0:
                try:
                    self._timer = asyncio.get_running_loop().call_later(delay, self._fire)
                except RuntimeError:  # no loop in this thread
                    self._timer = threading.Timer(delay, self._fire)
                    self._timer.name = "wskit-redraw"
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._last = time.monotonic()
        self._run()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
        self._run()

    def _run(self) -> None:
        self.redraws += 1
        self.redraw()

    def flush(self) -> None:
        """Redraw now, cancelling any scheduled redraw (for tests and for close)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._last = time.monotonic()
        self._run()
