"""Binder, checked from its own files: what repo2docker builds, and that the start page runs in it.

1. ``repo2docker --no-build`` reads binder/ and writes the Dockerfile it would build (no Docker engine needed).
2. A fresh virtual environment built from binder/ alone, the way repo2docker does it (requirements.txt, then
   postBuild from the repository root), runs notebook 00 under nbval.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path / "bin"


def pip(bin_dir: Path, *args: str) -> None:
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-compile", *args],
                   check=True, timeout=900)


@pytest.mark.timeout(900)
def test_repo2docker_reads_the_binder_folder(tmp_path):
    bin_dir = venv(tmp_path / "r2d")
    pip(bin_dir, "jupyter-repo2docker")
    done = subprocess.run([str(bin_dir / "repo2docker"), "--no-build", "--debug", str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    dockerfile = done.stdout + done.stderr
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "./binder/postBuild" in dockerfile
    assert "python=3.11" in dockerfile or "python3.11" in dockerfile


@pytest.mark.timeout(900)
def test_a_binder_environment_runs_the_start_page(tmp_path):
    bin_dir = venv(tmp_path / "binder")
    pip(bin_dir, "-r", str(ROOT / "binder" / "requirements.txt"))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env, check=True, timeout=600)
    pip(bin_dir, "nbval")  # only to check; the learner's environment does not need it
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
         "notebooks/00_start_here.ipynb"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
