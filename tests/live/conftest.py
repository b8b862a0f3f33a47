import threading

import pytest

import wskit


@pytest.fixture(autouse=True)
def clean_kit():
    """Every test starts and ends with nothing of wskit running."""
    wskit.stop_all()
    yield
    wskit.stop_all()
    assert wskit.live_objects() == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith(("wskit", "asyncio_"))]
