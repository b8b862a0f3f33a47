"""How many test workers, and in which order they take files.

Workers: ``-n auto`` (the README's test command) starts one more than the cores this process may use, at most four
(``--maxprocesses`` in pyproject.toml): about half of the suite's time is spent waiting (on kernels, Chromium, pip,
nginx and the experiments' own schedules), and a third worker on two cores fills it. On a 2-core machine
(November 2026) the whole command took 288 and 305 s with three workers against 352 to 372 s with two, and 332 s
with three while another process kept a core busy. Earlier tries failed three timing tests, each fixed since: an
idle-timeout clock now starts at the connection's own last byte, an echo rate is compared with the rate measured
alone just after it (up to three tries), and a panel's updates are checked by their spacing instead of their count
over wall time. With three workers the suite then passed with both cores kept busy by two other processes.
``-n 2`` (or any number) still chooses.

Order: with ``--dist loadfile`` each file goes whole to one worker, and a worker is handed the next file when it
has two tests or fewer left. xdist's own order (most items first) starts a file with few, long items (a notebook,
the Run All browser test) last, and one worker then runs it alone while the others wait. Taking the longest first
(``--no-loadscope-reorder`` in pyproject.toml, and the sort below) leaves only short files for the end.

The figures are the seconds each file took in a serial run on a 2-core machine (``pytest -n 0 --durations=0``,
summed per file, November 2026). They only order the work: a file missing here, or a figure that is off, changes
how long the run takes, never what it tests. Within a file the order is kept (a notebook's cells run in order).
"""

from __future__ import annotations

import os

import pytest

SECONDS = {
    "tests/test_notebooks_rerun.py": 172,
    "tests/browser/test_run_all.py": 165,
    "tests/test_binder.py": 102,
    "tests/exercises/test_notebooks.py": 52,
    "tests/kernel/test_widget_rerun.py": 49,
    "tests/codec/test_frames.py": 34,
    "tests/live/test_socketio.py": 24,
    "tests/browser/test_jupyterlab.py": 21,
    "notebooks/10_scaling_out.ipynb": 20,
    "tests/browser/test_browser_client.py": 18,
    "tests/exercises/test_containment.py": 18,
    "tests/browser/test_exercises.py": 17,
    "notebooks/11_production.ipynb": 14,
    "tests/live/test_log.py": 14,
    "tests/kernel/test_interrupts.py": 12,
    "tests/kernel/test_sio_reruns.py": 11,
    "notebooks/07_testing.ipynb": 11,
    "tests/live/test_log_memory.py": 11,
    "tests/cluster/test_processes.py": 11,
    "notebooks/06_websocket_vs_socketio.ipynb": 10,
    "notebooks/05_socketio.ipynb": 10,
    "tests/exercises/test_checks.py": 10,
    "tests/nginx/test_runner.py": 10,
    "tests/nginx/test_proxying.py": 10,
    "notebooks/04_timing.ipynb": 9,
    "tests/reliability/test_hostile_log.py": 9,
    "tests/cluster/test_scaling.py": 8,
    "notebooks/08_security_and_reliability.ipynb": 7,
    "notebooks/03_frames_and_full_duplex.ipynb": 6,
    "notebooks/02_handshake.ipynb": 4,
    "notebooks/01_layers_and_tcp.ipynb": 4,
    "notebooks/09_review.ipynb": 3,
    "notebooks/00_start_here.ipynb": 2,
}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, which pytest without it (Binder's check) does not know
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one more than the cores this process may use (``--maxprocesses`` caps it). ``None`` (xdist's own
    count) for ``-n logical`` or when ``PYTEST_XDIST_AUTO_NUM_WORKERS`` is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or config.option.numprocesses == "logical":
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # macOS: no affinity
    return (cores or 1) + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath

    def seconds(item: pytest.Item) -> int:
        try:
            return SECONDS.get(item.path.relative_to(root).as_posix(), 0)
        except ValueError:  # a file outside the checkout
            return 0

    items.sort(key=lambda item: -seconds(item))  # stable: the rest keep their order, as do a file's own items
