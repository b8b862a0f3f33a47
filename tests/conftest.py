import threading

import pytest
from hypothesis.internal.detection import is_hypothesis_test

import wskit

# Tests that start a browser, a kernel, Node.js, nginx or several processes, the property-based cross-checks
# (hundreds of examples each), and every notebook under nbval:
# marked "slow" here, by where they live, so that `pytest -m "not slow"` is the quick edit-test loop.
# CI runs everything.
SLOW_DIRS = {"browser", "interop", "cluster", "kernel", "nginx", "lessons", "exercises"}
SLOW_FILES = {"test_notebooks_rerun.py", "test_binder.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        slow = path.suffix == ".ipynb" or path.name in SLOW_FILES or path.parent.name in SLOW_DIRS
        if slow or is_hypothesis_test(getattr(item, "obj", None)):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def clean_kit():
    """Start and end with nothing of wskit running: no live object, no wskit thread (the one clean-up fixture).

    Use it with ``pytestmark = pytest.mark.usefixtures("clean_kit")``; ``tests/live`` uses it for every test.
    """
    wskit.stop_all()
    yield
    wskit.stop_all()
    assert wskit.live_objects() == []
    left = [t for t in threading.enumerate() if t.name.startswith(("wskit", "asyncio_"))]
    for thread in left:  # the widgets' UI thread ends by itself, half a second after the loop (wskit.widgets._pump)
        thread.join(10)
    assert not [t.name for t in left if t.is_alive()]
