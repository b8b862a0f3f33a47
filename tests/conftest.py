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
    """Start and end with nothing of wskit running (use with pytestmark = usefixtures("clean_kit"))."""
    wskit.stop_all()
    yield
    wskit.stop_all()
