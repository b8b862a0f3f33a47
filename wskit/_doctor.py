"""``wskit.doctor()``: is this environment ready for the course?"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import sys
import time

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

__all__ = ["Check", "Report", "doctor"]


def _requirements() -> list[Requirement]:
    """What wskit needs at run time, read from its own installed metadata (pyproject.toml's dependencies)."""
    try:
        lines = importlib.metadata.requires("wskit") or []
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - wskit imported from a bare checkout
        return []
    needed = [Requirement(line) for line in lines]
    return [r for r in needed if r.marker is None or r.marker.evaluate({"extra": ""})]


def _python_requirement() -> SpecifierSet:
    """The Python versions wskit runs on, from its own metadata (pyproject.toml's ``requires-python``)."""
    try:
        return SpecifierSet(importlib.metadata.metadata("wskit").get("Requires-Python") or "")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - wskit imported from a bare checkout
        return SpecifierSet()


def _in_words(specifier: SpecifierSet) -> str:
    """``>=3.11`` as "3.11 or newer"; other specifiers as written."""
    ordered = sorted(specifier, key=lambda s: (s.operator != ">=", str(s)))  # the lower bound first
    words = [f"{s.version} or newer" if s.operator == ">=" else str(s) for s in ordered]
    return " and ".join(words) or "any version"


FIX = "run the README's first command again (it installs everything: pip install -e .)"


@dataclasses.dataclass(frozen=True)
class Check:
    """One check of :func:`doctor`.

    Attributes:
        name: what was checked (a package, "Python", "live echo").
        ok: whether it passed.
        detail: what was seen.
        fix: how to fix it, shown when it failed.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclasses.dataclass(frozen=True)
class Report:
    """All checks; ``ok`` when every one passed."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def __str__(self) -> str:
        width = max(len(check.name) for check in self.checks)
        lines = []
        for check in self.checks:
            mark = "✓" if check.ok else "✗"
            lines.append(f"{mark} {check.name:<{width}}  {check.detail}")
            if not check.ok and check.fix:
                lines.append(f"  {'':<{width}}  fix: {check.fix}")
        lines.append("all good: the course is ready" if self.ok else "some checks failed: see the fixes above")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


def doctor(*, versions: bool = True) -> Report:
    """Check Python, the packages, the background loop, and one live echo round trip.

    Args:
        versions: include each package's version in the details (turn off
            for output that must not change between machines).
    """
    python, found = _python_requirement(), ".".join(map(str, sys.version_info[:3]))  # no "+" of a local build
    wanted = _in_words(python)
    checks = [Check("Python", python.contains(found, prereleases=True),
                    f"{found} ({wanted} needed)" if versions else wanted, f"install Python {wanted}")]
    for requirement in _requirements():
        package, wanted = requirement.name, str(requirement.specifier) or "any version"
        try:
            found = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(package, False, "not installed", FIX))
            continue
        ok = requirement.specifier.contains(found, prereleases=True)
        detail = f"{found} ({wanted})" if versions else wanted
        checks.append(Check(package, ok, detail, FIX))
    try:
        from .live import EchoServer, connect, loop

        started = time.perf_counter()
        with EchoServer(name="doctor") as server, connect(server.url, name="doctor-client") as client:
            client.send("are you there?")
            echoed = client.recv(timeout=5)
        elapsed = (time.perf_counter() - started) * 1000
        alive = loop.get_loop().is_running()
        checks.append(Check("background loop", alive, "running" if alive else "not running",
                            "restart the kernel, then run wskit.stop_all() and this cell again"))
        checks.append(Check("live echo", echoed == "are you there?",
                            f"a server started, a client connected and got its echo ({elapsed:.0f} ms)"
                            if versions else "a server started, a client connected and got its echo",
                            "see the error above; a firewall must allow 127.0.0.1"))
    except Exception as exc:  # the report says what went wrong instead of raising
        checks.append(Check("live echo", False, f"{type(exc).__name__}: {exc}",
                            "restart the kernel; if it persists, " + FIX))
    return Report(tuple(checks))
