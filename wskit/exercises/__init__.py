"""Exercises: the learner writes the code, the kit checks it against hidden cases and live servers.

In a notebook::

    from wskit import exercises as ex

    def accept_key(key: str) -> str:       # the learner's cell (stored as a stub)
        ...

    ex.check("accept_key", accept_key)      # passed, or the first failing case and the mistake
    ex.hint("accept_key")                   # one more hint each call, after a first try
    ex.solution("accept_key")               # a reference solution, after a real try
    ex.progress()                           # every exercise of the course, done or not

A check runs the learner's code contained: in a worker thread with a time
limit, every server or client it started stopped afterwards, its traceback
shown rather than raised. An unsolved stub's check says "not yet" and never
raises. Progress is kept in ``~/.wskit/progress.json`` (or ``$WSKIT_PROGRESS``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from . import frames, handshake, production, security, socketio, testing  # noqa: F401 - each registers its exercises
from . import store as _progress
from .core import EXERCISES, Exercise, Mismatch, Note, Result, ShownAsWidget, check, exercise, hint, solution

__all__ = [
    "EXERCISES",
    "Exercise",
    "Mismatch",
    "Note",
    "Progress",
    "Result",
    "check",
    "exercise",
    "hint",
    "progress",
    "reset",
    "solution",
]

NOTEBOOKS = {
    "02": "02_handshake.ipynb",
    "03": "03_frames_and_full_duplex.ipynb",
    "05": "05_socketio.ipynb",
    "07": "07_testing.ipynb",
    "08": "08_security_and_reliability.ipynb",
    "11": "11_production.ipynb",
}


@dataclasses.dataclass(repr=False)
class Progress(ShownAsWidget):
    """Every exercise of the course, done or not (from the progress file).

    Attributes:
        done: names of the exercises passed.
        rows: ``(notebook, name, title, done, tries)`` for each exercise, in course order.
        where: the progress file.
        problem: why progress could not be saved to disk, if it could not.
    """

    done: list[str]
    rows: list[tuple[str, str, str, bool, int]]
    where: str
    problem: str | None = None

    @property
    def summary(self) -> str:
        return f"{len(self.done)} of {len(self.rows)} exercises done"

    def text(self) -> str:
        lines = [f"{self.summary} (saved in {self.where})"]
        for notebook, name, title, done, tries in self.rows:
            lines.append(f"  {'✓' if done else '·'} {notebook} {name:<18} {title}"
                         + (f"  [{tries} tries]" if tries else ""))
        if self.problem:
            lines.append(f"  note: {self.problem}")
        return "\n".join(lines)

    def widget(self) -> Any:
        """The table as a :class:`~wskit.exercises.view.ProgressView`."""
        from .view import ProgressView

        return ProgressView(self.rows, self.summary)


def progress() -> Progress:
    """Which exercises are done across the course; survives kernel restarts."""
    entries = _progress.load()
    ordered = sorted(EXERCISES.values(), key=lambda ex: ex.notebook)  # stable: each notebook's own order
    rows = [(ex.notebook, ex.name, ex.title, bool(entries.get(ex.name, {}).get("passed")),
             int(entries.get(ex.name, {}).get("attempts", 0))) for ex in ordered]
    where = _progress.path()
    try:
        shown = f"~/{where.relative_to(Path.home())}"
    except ValueError:
        shown = str(where)
    return Progress([row[1] for row in rows if row[3]], rows, shown, _progress.storage_problem())


def reset(name: str | None = None) -> None:
    """Forget the progress of one exercise, or of all (``name=None``)."""
    if name is not None:
        exercise(name)
    _progress.reset(name)
