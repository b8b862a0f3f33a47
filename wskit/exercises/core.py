"""The machinery of an exercise: the registry, the contained run of the learner's code, hints and solutions.

An :class:`Exercise` is a named check: a reference solution (the learner's
stub is derived from it), hints, and a ``checker(answer)`` that runs the
learner's function (or handlers, or tests) against hidden cases and live
servers and raises :class:`Mismatch` at the first wrong case; most checkers
hand a table of :class:`Case` to :func:`run_cases`. :func:`check` runs the
checker *contained*: in a worker thread with a time limit (abandoned, with an
exception thrown into it, if it hangs), with every server or client it
started stopped afterwards, and with the learner's traceback shown rather
than raised. The result is a :class:`Result`, shown as a small widget with a
plain-text fallback.
"""

from __future__ import annotations

import ast
import contextvars
import ctypes
import dataclasses
import functools
import operator
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from . import store as _progress

__all__ = [
    "Case",
    "Exercise",
    "Mismatch",
    "Note",
    "Result",
    "Shown",
    "ShownAsWidget",
    "EXERCISES",
    "check",
    "exercise",
    "expect",
    "hint",
    "register",
    "run_cases",
    "solution",
    "stub_of",
]

#: Every exercise, by name, in course order.
EXERCISES: dict[str, Exercise] = {}


class Mismatch(Exception):
    """The learner's code got one case wrong.

    Attributes:
        case: the input, in words or code.
        expected: what was expected.
        got: what the learner's code gave.
        mistake: the likely mistake, named (empty when no known mistake fits).
        traceback: a traceback from the learner's code (on a live server, or of what it raised), if any.
        raised: the learner's code raised on this case (``got`` names the exception) rather than answering.
    """

    def __init__(self, case: str, expected: Any, got: Any, mistake: str = "", traceback: str = "", *,
                 raised: bool = False) -> None:
        self.case, self.expected, self.got, self.mistake, self.traceback = case, expected, got, mistake, traceback
        self.raised = raised
        text = f"{case}: expected {_short(expected)}, got {_short(got)}"  # a value can be 200 kB
        super().__init__(text + (f" ({mistake})" if mistake else ""))


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise.

    Attributes:
        name: the name ``check``, ``hint`` and ``solution`` take.
        notebook: the notebook it lives in, e.g. ``"02"``.
        title: one line saying what to write.
        task: the markdown that introduces it in the notebook.
        function: the name the learner's cell defines (what the check cell passes).
        solution: the reference solution: a whole cell that replaces the stub. Its ``function`` starts with a
            docstring: the stub is derived from it (see :attr:`stub`), so the contract is written once.
        hints: shown one at a time, in order.
        checker: ``checker(answer)`` raises :class:`Mismatch` at the first wrong case; may return a note.
        timeout: seconds the whole check may take.
    """

    name: str
    notebook: str
    title: str
    task: str
    function: str
    solution: str
    hints: tuple[str, ...]
    checker: Callable[[Any], str | None]
    timeout: float = 10.0

    @functools.cached_property
    def stub(self) -> str:
        """The learner's cell as stored in the notebook (see :func:`stub_of`)."""
        return stub_of(self.solution, self.function, self.name)

    @property
    def check_cell(self) -> str:
        """The check cell as stored in the notebook."""
        return f'ex.check("{self.name}", {self.function})'


def stub_of(solution: str, function: str, name: str) -> str:
    """The learner's cell for a reference ``solution``: the same cell, without its imports, ``function`` cut
    after its docstring and ending in ``raise NotImplementedError(...)`` (which the check reads as "not yet").

    What the solution defines before ``function`` (a constant the task gives, like the GUID) stays in the stub.

    Raises:
        ValueError: ``solution`` does not define ``function`` with a docstring.
    """
    tree = ast.parse(solution)
    defined = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function]
    if not defined or not isinstance(ast.get_docstring(defined[0], clean=False), str):
        raise ValueError(f"exercise {name!r}: its solution must define {function}() with a docstring")
    start = next(node.lineno for node in tree.body if not isinstance(node, ast.Import | ast.ImportFrom))
    lines = solution.splitlines()[start - 1:defined[0].body[0].end_lineno]
    return "\n".join([*lines, f"    raise NotImplementedError(\"your code here; stuck? run ex.hint('{name}')\")"])


def register(ex: Exercise) -> Exercise:
    """Add ``ex`` to :data:`EXERCISES`.

    Raises:
        ValueError: the name is taken, or the solution has no stub (see :func:`stub_of`).
    """
    if ex.name in EXERCISES:
        raise ValueError(f"exercise {ex.name!r} is already registered")
    ex.stub  # noqa: B018 - derived now, so that a solution without its docstring fails at import, not in a lesson
    EXERCISES[ex.name] = ex
    return ex


def exercise(name: str) -> Exercise:
    """The exercise called ``name``.

    Raises:
        ValueError: there is none (the message lists the names).
    """
    try:
        return EXERCISES[name]
    except KeyError:
        raise ValueError(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}") from None


# --- results -------------------------------------------------------------------------------


def _short(value: Any, limit: int = 400, *, raw: bool = False) -> str:
    """``repr(value)`` (so that bytes and str stay apart), or the text itself with ``raw``, cut at ``limit``."""
    text = value if raw and isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Shown:
    """A value that shows as its :meth:`text` in a plain interpreter and in IPython alike."""

    def text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


class ShownAsWidget(Shown):
    """A :class:`Shown` whose rich form is its :meth:`widget`, with the text as the plain fallback."""

    def widget(self) -> Any:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {})
        except Exception:  # no widgets here (a plain interpreter): text only
            bundle = {}
        bundle["text/plain"] = self.text()
        return bundle


@dataclasses.dataclass(repr=False)
class Result(ShownAsWidget):
    """What one check found.

    Attributes:
        name, title: the exercise.
        status: ``"passed"``, ``"failed"`` or ``"not yet"`` (an unsolved stub).
        summary: one line.
        case, expected, got, mistake: the first failing case, when there is one.
        traceback: the learner's traceback, when their code raised or hung.
        notes: what containment did (servers stopped, a thread abandoned).
        seconds: how long the check took.
    """

    name: str
    title: str
    status: str
    summary: str
    case: str = ""
    expected: Any = None
    got: Any = None
    mistake: str = ""
    traceback: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def text(self) -> str:
        """The result as plain text (what a notebook shows without widgets)."""
        mark = {"passed": "✓", "failed": "✗", "not yet": "…"}[self.status]
        lines = [f"{mark} {self.name}: {self.status} — {self.summary}"]
        if self.case:
            lines.append(f"  case:     {_short(self.case, raw=True)}")
            lines.append(f"  expected: {_short(self.expected)}")
            lines.append(f"  got:      {_short(self.got)}")
        if self.mistake:
            lines.append(f"  mistake:  {self.mistake}")
        if self.traceback:
            lines.append("  traceback:")
            lines.extend("    " + line for line in self.traceback.rstrip().splitlines())
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.status != "passed":
            lines.append(f"  stuck? ex.hint({self.name!r})")
        return "\n".join(lines)

    def widget(self) -> Any:
        """The result as a :class:`~wskit.exercises.view.CheckView`."""
        from .view import CheckView

        return CheckView(self)


@dataclasses.dataclass(repr=False)
class Note(Shown):
    """A hint or a solution: text with an HTML form."""

    title: str
    body: str
    code: bool = False

    def text(self) -> str:
        return f"{self.title}\n\n{self.body}"

    def _repr_html_(self) -> str:
        import html

        body = html.escape(self.body)
        body = f"<pre>{body}</pre>" if self.code else f"<p>{body}</p>"
        return f"<div class='wskit-exercise-note'><b>{html.escape(self.title)}</b>{body}</div>"


# --- containment ---------------------------------------------------------------------------


class CheckTimeout(Exception):
    """Thrown into learner code that ran past its check's time limit."""


class _Abandoned(BaseException):
    """Thrown into a check's worker thread that ran past its time limit."""


def _throw_into(thread: threading.Thread, exc_type: type[BaseException]) -> bool:
    """Raise ``exc_type`` in ``thread`` the next time it runs Python code."""
    # not thread.is_alive(): on Python 3.11 it says False once a KeyboardInterrupt has cut a join() short
    if thread.ident is None or thread.ident not in sys._current_frames():
        return False
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))
    return done == 1


def _loop_thread() -> threading.Thread | None:
    from ..live.loop import THREAD_NAME

    return next((t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()), None)


def _unstick_loop() -> str | None:
    """If learner code blocks the wskit loop (a handler that never awaits), throw it out."""
    import asyncio

    from ..live import loop as live_loop

    thread = _loop_thread()
    if thread is None:
        return None
    for _ in range(3):
        try:
            live_loop.run(asyncio.sleep(0), timeout=2.0)
            return None if _ == 0 else "a handler blocked the wskit loop (no await in a loop?): it was interrupted"
        except TimeoutError:
            _throw_into(thread, CheckTimeout)
    return "a handler blocks the wskit loop and could not be interrupted: restart the kernel"


def learner_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the checker's own frames."""
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__)
        if "wskit/exercises" not in frame.filename.replace("\\", "/") and not frame.filename.endswith("threading.py")
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


@dataclasses.dataclass(frozen=True)
class Case:
    """One hidden case of a check: the learner's function called with ``args`` must answer ``expected``.

    Attributes:
        shown: the case as a failed check shows it to the learner (the call, or the input in words).
        args: what the learner's function is called with.
        expected: the right answer; an exception class (such as ``ValueError``) when the function must refuse.
        mistake: the mistake a wrong answer to this case reveals ("" when no known mistake fits).
    """

    shown: str
    args: tuple[Any, ...]
    expected: Any
    mistake: str = ""


def expect(shown: str, expected: Any, got: Any, mistake: str = "", traceback: str = "") -> None:
    """Raise :class:`Mismatch` unless what was seen, ``got``, is ``expected`` (for what a live server or client saw;
    :func:`run_cases` calls the learner's function on a table of cases)."""
    if got != expected:
        raise Mismatch(shown, expected, got, mistake, traceback)


def run_cases(
    function: Callable[..., Any],
    cases: Iterable[Case],
    *,
    right: Callable[[Any, Any], bool] = operator.eq,
    mistake: Callable[[Case, Any], str] | None = None,
    on_error: Callable[[Case, Exception], str] | None = None,
) -> None:
    """Run the learner's ``function`` on each case, in order; raise :class:`Mismatch` at the first wrong answer.

    An exception from ``function`` is a wrong answer too, shown with its case and the learner's traceback;
    ``NotImplementedError`` (an unsolved stub) passes through, so the check says "not yet". A case whose
    ``expected`` is an exception class is right when ``function`` raises it.

    Args:
        function: the learner's function.
        cases: the table of cases.
        right: ``right(got, expected)``: whether an answer is right (``==`` by default).
        mistake: ``mistake(case, got)``: the mistake a wrong answer reveals (``case.mistake`` by default).
        on_error: ``on_error(case, exception)``: the mistake an exception reveals (none by default).
    """
    for case in cases:
        refusal = isinstance(case.expected, type) and issubclass(case.expected, Exception)
        expected = case.expected.__name__ if refusal else case.expected
        try:
            got = function(*case.args)
        except (NotImplementedError, Mismatch):
            raise
        except Exception as exc:
            if refusal and isinstance(exc, case.expected):
                continue
            raise Mismatch(case.shown, expected, f"{type(exc).__name__}: {exc}",
                           on_error(case, exc) if on_error else "", learner_traceback(exc), raised=True) from None
        if refusal or not right(got, case.expected):
            raise Mismatch(case.shown, expected, got, mistake(case, got) if mistake and not refusal else case.mistake)


@dataclasses.dataclass
class _Run:
    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    notes: list[str] = dataclasses.field(default_factory=list)


def contained(function: Callable[[], Any], timeout: float, label: str = "check") -> _Run:
    """Run ``function()`` in a worker thread for at most ``timeout`` seconds; stop what it started.

    A worker that is still running at the deadline is abandoned: an exception
    is thrown into it (it ends as soon as it runs Python code again), and the
    wskit loop is freed if learner code blocks it. Every server or client
    created during the run and still live is stopped.
    """
    from ..live import live_objects

    before = live_objects()
    outcome = _Run()

    def target() -> None:
        try:
            outcome.value = function()
        except BaseException as exc:  # everything is reported, nothing escapes the thread
            outcome.error = exc

    context = contextvars.copy_context()  # ipykernel's "current cell", so prints land in this cell
    worker = threading.Thread(target=context.run, args=(target,), name=f"wskit-exercise-{label}", daemon=True)
    worker.start()
    try:
        worker.join(timeout)
    except KeyboardInterrupt:  # the learner pressed stop: abandon the worker, clean up, and stop
        _throw_into(worker, _Abandoned)
        worker.join(2.0)
        _cleanup(before, outcome)
        raise
    if worker.is_alive():
        outcome.timed_out = True
        _throw_into(worker, _Abandoned)
        worker.join(2.0)
        outcome.notes.append(
            f"your code was still running after {timeout:g} s: it was interrupted"
            + ("" if not worker.is_alive() else " (its thread is blocked in a system call and is left behind)")
        )
        stuck = _unstick_loop()
        if stuck:
            outcome.notes.append(stuck)
    _cleanup(before, outcome)
    return outcome


def _cleanup(before: list[Any], outcome: _Run) -> None:
    from ..live import live_objects
    from ..live.loop import stop_order

    stopped = []
    for obj in stop_order(live_objects()):
        if any(obj is old for old in before):
            continue
        try:
            obj.stop()
        except Exception as exc:  # one broken object must not keep the others running
            outcome.notes.append(f"stopping {obj.name!r} failed: {exc!r}")
        stopped.append(obj.name)
    if stopped:
        outcome.notes.append(f"stopped {len(stopped)} server(s)/client(s) still running after the check: "
                         + ", ".join(sorted(stopped)))


# --- the learner's verbs -------------------------------------------------------------------


def check(name: str, answer: Any, *, timeout: float | None = None) -> Result:
    """Run the learner's ``answer`` against exercise ``name``'s hidden cases and live servers.

    Never raises for anything the learner's code does: an unsolved stub gives
    ``"not yet"``, a wrong case or an exception ``"failed"``, with the case,
    the expected and actual values, the mistake if it is a known one, and the
    traceback.

    Args:
        name: the exercise.
        answer: the learner's function (or handler setup, or test).
        timeout: seconds the check may take (the exercise's own limit by default).
    """
    ex = exercise(name)
    started = time.perf_counter()
    if not callable(answer):
        result = Result(ex.name, ex.title, "failed",
                        f"pass your function itself: ex.check({ex.name!r}, {ex.function}); got {answer!r}")
        return _record(ex, result, real=True)
    outcome = contained(lambda: ex.checker(answer), timeout or ex.timeout, ex.name)
    seconds = time.perf_counter() - started
    error = outcome.error
    if outcome.timed_out:
        result = Result(ex.name, ex.title, "failed", f"the check did not finish within {timeout or ex.timeout:g} s",
                        mistake="your code hangs: a loop that never ends, or a wait with no timeout",
                        traceback=learner_traceback(error) if error is not None and not
                        isinstance(error, _Abandoned) else "")
    elif isinstance(error, NotImplementedError):
        result = Result(ex.name, ex.title, "not yet", f"write the body of {ex.function}, run its cell, "
                        "then run this check again")
    elif isinstance(error, Mismatch):
        summary = f"your code raised {error.got}" if error.raised else "a case went wrong"
        result = Result(ex.name, ex.title, "failed", summary, error.case, error.expected, error.got, error.mistake,
                        error.traceback)
    elif error is not None:
        result = Result(ex.name, ex.title, "failed", f"your code raised {type(error).__name__}: {error}",
                        traceback=learner_traceback(error))
    else:
        result = Result(ex.name, ex.title, "passed", outcome.value or "every case right")
    result.notes.extend(outcome.notes)
    result.seconds = seconds
    return _record(ex, result, real=result.status != "not yet")


#: Exercises checked in this kernel (a stub's check counts as a first look; it is not saved).
_checked_here: set[str] = set()


def _record(ex: Exercise, result: Result, *, real: bool) -> Result:
    """Save a real attempt (the learner's own code ran) in the progress file."""
    _checked_here.add(ex.name)
    if not real:
        return result
    entry = _progress.load().get(ex.name, {})
    changes: dict[str, Any] = {"attempts": entry.get("attempts", 0) + 1}
    if result.passed and not entry.get("passed"):
        changes.update(passed=True, passed_at=_progress.now())
    _progress.update(ex.name, **changes)
    problem = _progress.storage_problem()
    if problem and problem not in result.notes:
        result.notes.append(problem)
    return result


def hint(name: str) -> Note:
    """The next hint of exercise ``name`` (one more each call), once its check has been run."""
    ex = exercise(name)
    entry = _progress.load().get(name, {})
    if name not in _checked_here and not entry.get("attempts"):
        return Note(f"Hints for {name} open after your first try",
                    f"Write what you can in the cell, run it, then run ex.check({name!r}, {ex.function}). "
                    "The check says what went wrong; hints are for when that is not enough.")
    shown = min(entry.get("hints", 0) + 1, len(ex.hints))
    _progress.update(name, hints=shown)
    body = "\n\n".join(f"{i + 1}. {text}" for i, text in enumerate(ex.hints[:shown]))
    more = f"ex.hint({name!r}) again for the next one." if shown < len(ex.hints) else \
        f"That was the last hint; ex.solution({name!r}) shows a reference solution."
    return Note(f"Hint {shown} of {len(ex.hints)} for {name}", f"{body}\n\n{more}")


def solution(name: str) -> Note:
    """A reference solution of exercise ``name``: only after one real attempt (a check of your own code)."""
    ex = exercise(name)
    entry = _progress.load().get(name, {})
    if not entry.get("attempts") and not entry.get("passed"):
        return Note(f"The solution to {name} opens after one real try",
                    f"Write your own {ex.function} (even a wrong one), run its cell and the check. "
                    f"Until then: ex.hint({name!r}).")
    _progress.update(name, solution_seen=True)
    return Note(f"A reference solution for {name} (replace your cell with it, run it and the check)",
                ex.solution, code=True)
