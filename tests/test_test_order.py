"""The root conftest.py: how many test workers, and the longest files first, without reordering a file's tests."""

from __future__ import annotations

import importlib.util
import os
import random
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).parent.parent


def _root_conftest():
    spec = importlib.util.spec_from_file_location("wskit_root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_file_the_order_names_exists():
    """A renamed or deleted file would silently drop out of the order: its figure would order nothing."""
    missing = [name for name in _root_conftest().SECONDS if not (ROOT / name).is_file()]
    assert missing == []


def test_auto_starts_one_worker_more_than_the_cores(monkeypatch):
    hook = _root_conftest().pytest_xdist_auto_num_workers
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    auto, logical = (SimpleNamespace(option=SimpleNamespace(numprocesses=n)) for n in ("auto", "logical"))
    assert hook(auto) == len(os.sched_getaffinity(0)) + 1  # pyproject.toml's --maxprocesses caps it at four
    assert hook(logical) is None  # xdist's own count of logical CPUs
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert hook(auto) is None  # xdist's own reading of the variable
    monkeypatch.delattr(os, "sched_getaffinity")  # as on macOS
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert hook(auto) == 9


def test_the_longest_files_come_first_and_each_file_keeps_its_order():
    conftest = _root_conftest()
    longest = sorted(conftest.SECONDS, key=conftest.SECONDS.get, reverse=True)
    files = ["tests/codec/test_handshake.py", "notebooks/00_start_here.ipynb", longest[0], longest[1],
             "tests/test_doctor.py"]
    items = [SimpleNamespace(path=ROOT / name, index=(name, i)) for name in files for i in range(4)]
    random.Random(7).shuffle(items)  # as collected: files interleaved, each file's items in order
    for name in files:
        mine = [item for item in items if item.path == ROOT / name]
        for i, item in enumerate(mine):
            item.index = (name, i)
    collected = [item.index for item in items]
    outside = SimpleNamespace(path=Path("/elsewhere/test_x.py"), index=("/elsewhere", 0))
    items.append(outside)

    conftest.pytest_collection_modifyitems(SimpleNamespace(rootpath=ROOT), items)

    order = [item.index[0] for item in items]
    assert order[:8] == [longest[0]] * 4 + [longest[1]] * 4
    assert order.index("notebooks/00_start_here.ipynb") < order.index("tests/codec/test_handshake.py")  # 2 s, 0
    unknown = {"tests/codec/test_handshake.py", "tests/test_doctor.py"}  # not in SECONDS: they keep their order
    assert [item.index for item in items if item.index[0] in unknown] == [i for i in collected if i[0] in unknown]
    assert items[-1] is outside  # a file outside the checkout counts as short
    for name in files:  # a file's own items (a notebook's cells) stay in the order they were collected
        assert [item.index[1] for item in items if item.index[0] == name] == [0, 1, 2, 3]
