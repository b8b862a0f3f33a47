"""Whom the loop watchdog blames: the first frame outside the libraries, never the garbage collector's callbacks."""

from __future__ import annotations

import gc
import sys
import threading
import types

from wskit.live import loop


def _stack(frame: types.FrameType) -> list[types.FrameType]:
    """A thread's stack as the watchdog reads it, outermost first."""
    stack = []
    while frame is not None:
        stack.append(frame)
        frame = frame.f_back
    return stack[::-1]


def _in_a_thread(target) -> None:
    thread = threading.Thread(target=target)  # outermost frames: threading's, as on the loop thread
    thread.start()
    thread.join(10)


def test_a_garbage_collection_callback_is_not_blamed():
    """In CI a stall of over 0.5 s (another process busy, tracemalloc on) was sampled inside hypothesis's
    gc.callbacks entry, and the warning named that line: the collector ran, no learner's code."""
    seen: list[list[types.FrameType]] = []

    def on_collect(phase, info):
        if phase == "start" and not seen:
            seen.append(_stack(sys._getframe()))

    gc.callbacks.append(on_collect)
    try:
        _in_a_thread(gc.collect)
        assert seen and seen[0][-1].f_code is on_collect.__code__
        assert loop._culprit(seen[0]) is None  # read while the callback is registered, as the watchdog reads it
    finally:
        gc.callbacks.remove(on_collect)


def test_the_learners_code_is_blamed():
    seen: list[list[types.FrameType]] = []

    def handler():  # the same capture, from an ordinary function
        seen.append(_stack(sys._getframe()))

    _in_a_thread(handler)
    assert loop._culprit(seen[0]).f_code is handler.__code__


def test_a_watchdog_the_machine_held_back_does_not_report_a_loop_that_ran(monkeypatch):
    """CI50 (three workers on two busy cores) warned that logging's info() had blocked the loop for over 0.6 s. The
    lag was counted from the loop's last tick, so a watchdog thread held back itself (not the loop) found a stale
    tick and blamed whatever the loop ran at that moment. Here the watchdog starts 1.6 s late while the loop runs
    learner's code that never holds it for more than 20 ms: no report. Then the code blocks for 1.4 s: one report.
    (The threshold is 1 s here instead of 0.5, so that only a loop starved for a whole second could fail this.)"""
    import asyncio
    import time
    import warnings

    monkeypatch.setattr(loop, "BLOCK_THRESHOLD", 1.0)

    class HeldBack(loop._Watchdog):
        def _main(self) -> None:
            time.sleep(1.6)  # the machine runs everything but this thread for a while
            super()._main()

    def dozing(seconds: float) -> None:  # the learner's code, blocking the loop (a sleep costs no CPU)
        time.sleep(seconds)

    async def learner() -> None:
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            dozing(0.02)
            await asyncio.sleep(0)
        dozing(1.4)
        await asyncio.sleep(0.5)  # the watchdog reports while the loop is still blocked: wait for it here

    test_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=test_loop.run_until_complete, args=(learner(),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thread.start()
        watchdog = HeldBack(test_loop, thread)
        thread.join(10)
        watchdog.stop()
    test_loop.close()
    reports = [str(w.message) for w in caught if "blocked the wskit loop" in str(w.message)]
    assert watchdog.reports == len(reports) == 1, reports
    assert reports[0].startswith("wskit: learner()"), reports  # the outermost frame of the learner's, as ever
