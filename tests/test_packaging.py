"""The README's two commands, CI, Binder and pyproject agree with each other."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_gives_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2, commands
    run_course, run_tests = commands
    assert "wskit lab" in run_course and "pytest" in run_tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _commands()[1] in ci.splitlines()
    assert "set -euo pipefail" in ci


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_binder_installs_what_the_package_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    binder = [line for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(binder) == sorted(project["dependencies"])
    post_build = ROOT / "binder" / "postBuild"
    assert "set -e" in post_build.read_text() and os.access(post_build, os.X_OK)
    assert (ROOT / "binder" / "runtime.txt").read_text().startswith("python-3.")


def test_readme_lists_every_notebook():
    for notebook in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        assert f"notebooks/{notebook.name}" in README, notebook.name
