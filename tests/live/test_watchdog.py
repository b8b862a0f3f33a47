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
