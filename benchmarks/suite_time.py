"""How long the course's own tests take: nbval over every notebook, the quick subset, and (with --full) the
README's whole test command.

Each is run as the README runs it (``.venv/bin/python -m pytest``, with pyproject.toml's options:
pytest-xdist workers, one more than the cores, see conftest.py), and nbval is also run in one process (``-n 0``) in
the same session, as the baseline the side-by-side figure is a ratio of. Printed for each: wall seconds, the CPU
seconds of the run and its children (kernels, servers, browsers: those their parents waited for), and the least
wall time that CPU allows on this machine's cores, which says whether a target is out of reach without doing
less work.

Targets (issue 21): nbval ≤ 60 s; the quick subset (``-m "not slow"``) < 60 s; the whole command ≤ 6 min.

Run: .venv/bin/python benchmarks/suite_time.py [--full]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from load_capacity import children_cpu  # benchmarks/, this script's folder, is first on sys.path

ROOT = Path(__file__).resolve().parent.parent

def pytest(*args: str, timeout: float) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, pytest's last line) of one pytest run in the checkout."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall, used = time.perf_counter() - started, children_cpu() - cpu
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    if done.returncode != 0:
        print(f"   (pytest {' '.join(args)} failed: {last})")
    return wall, used, last


def row(label: str, wall: float, cpu: float, target: float | None, cores: int) -> None:
    floor = cpu / cores
    verdict = "" if target is None else f"target ≤ {target:g} s: {'MET' if wall <= target else 'MISSED'}"
    print(f"   {label:<34} {wall:7.1f} s wall {cpu:8.1f} s CPU  (CPU / {cores} cores = {floor:6.1f} s)  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run the README's whole test command (~10 min)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{cores} CPUs; wall and CPU seconds of each run, children included\n")

    print("1. every notebook under nbval (pytest notebooks)")
    serial = pytest("notebooks", "-n", "0", timeout=900)
    side = pytest("notebooks", timeout=900)
    row("one process (-n 0), the baseline", *serial[:2], None, cores)
    row("the test command's workers", *side[:2], 60, cores)
    print(f"   side by side / one process: {side[0] / serial[0]:.2f} of the wall time "
          f"({side[2]}); a worker's start costs each run about the same CPU again\n")

    print('2. the quick subset (pytest -m "not slow")')
    quick = pytest("-m", "not slow", timeout=900)
    row("the test command's workers", *quick[:2], 60, cores)
    print(f"   ({quick[2]})\n")

    if args.full:
        print("3. the README's test command (pytest, everything)")
        full = pytest(timeout=3600)
        row("the test command's workers", *full[:2], 360, cores)
        print(f"   ({full[2]})")
        if full[1] / cores > 360:
            print(f"   its CPU alone needs {full[1] / cores / 60:.1f} min on {cores} cores, fully busy: "
                  "6 min is out of reach here without running less")


if __name__ == "__main__":
    main()
