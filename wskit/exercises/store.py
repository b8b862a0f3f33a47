"""Which exercises are done, in a small JSON file that survives kernel restarts.

The file is ``~/.wskit/progress.json`` unless the environment variable
``WSKIT_PROGRESS`` names another (tests point it at a temporary path). A home
that cannot be written (read-only, full, missing) never makes a check fail:
progress is then kept in this kernel's memory and the reason is shown once.

Each exercise's entry::

    {"passed": true, "attempts": 3, "hints": 1, "solution_seen": false, "passed_at": "2026-11-26T21:40:00"}
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["ENV", "path", "load", "update", "reset", "storage_problem"]

ENV = "WSKIT_PROGRESS"
VERSION = 1

_lock = threading.Lock()
_memory: dict[str, dict[str, Any]] = {}  # entries that could not be written to disk yet
_problem: str | None = None


def path() -> Path:
    """Where progress is stored: ``$WSKIT_PROGRESS``, else ``~/.wskit/progress.json``."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".wskit" / "progress.json"


def storage_problem() -> str | None:
    """Why progress could not be saved to disk (``None`` when it could)."""
    return _problem


def _read_file() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    exercises = data.get("exercises") if isinstance(data, dict) else None
    if not isinstance(exercises, dict):
        return {}
    return {name: entry for name, entry in exercises.items() if isinstance(entry, dict)}


def load() -> dict[str, dict[str, Any]]:
    """Every exercise's entry: the file's, with this kernel's unsaved changes on top."""
    with _lock:
        merged = _read_file()
        for name, entry in _memory.items():
            merged[name] = {**merged.get(name, {}), **entry}
        return merged


def _write(exercises: dict[str, dict[str, Any]]) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"version": VERSION, "exercises": exercises}, indent=1, sort_keys=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".progress-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(temporary, target)  # atomic: a reader never sees half a file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def update(name: str, **changes: Any) -> dict[str, Any]:
    """Change one exercise's entry (``attempts=+1`` style counts are the caller's job); return it."""
    global _problem
    with _lock:
        exercises = _read_file()
        for key, entry in _memory.items():
            exercises[key] = {**exercises.get(key, {}), **entry}
        entry = {**exercises.get(name, {}), **changes}
        exercises[name] = entry
        try:
            _write(exercises)
        except OSError as exc:
            _memory[name] = dict(entry)
            _problem = f"progress kept in memory only: cannot write {path()} ({exc.strerror or exc})"
        else:
            _memory.clear()  # everything it held is in the file now
            _problem = None
        return dict(entry)


def reset(name: str | None = None) -> None:
    """Forget one exercise's progress, or everything (``name=None``)."""
    global _problem
    with _lock:
        exercises = _read_file()
        if name is None:
            exercises.clear()
            _memory.clear()
        else:
            exercises.pop(name, None)
            _memory.pop(name, None)
        try:
            _write(exercises)
        except OSError as exc:
            _problem = f"progress kept in memory only: cannot write {path()} ({exc.strerror or exc})"


def now() -> str:
    """The local time, to the second, for ``passed_at``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S")
