"""wskit.doctor() checks what pyproject.toml asks for, and says how to fix what is missing."""

from __future__ import annotations

import importlib.metadata

import pytest

import wskit
from wskit import _doctor


def test_the_package_list_is_wskits_own_run_time_requirements():
    names = {r.name for r in _doctor._requirements()}
    assert {"websockets", "python-socketio", "ipywidgets", "packaging"} <= names
    assert "nbval" not in names  # a test extra, not needed to run the course


@pytest.mark.usefixtures("clean_kit")
def test_a_healthy_environment_passes_every_check():
    report = wskit.doctor(versions=False)
    assert report.ok, str(report)
    assert "live echo" in str(report) and str(report).endswith("the course is ready")


@pytest.mark.usefixtures("clean_kit")
def test_too_old_and_missing_packages_fail_with_the_fix(monkeypatch):
    real = importlib.metadata.requires
    monkeypatch.setattr(
        importlib.metadata,
        "requires",
        lambda name: ["websockets>=999", "no-such-package-wskit>=1"] if name == "wskit" else real(name),
    )
    report = wskit.doctor()
    text = str(report)
    assert not report.ok
    assert "✗ websockets" in text and "(>=999)" in text
    assert "✗ no-such-package-wskit" in text and "not installed" in text
    assert "fix: run the README's first command again" in text
