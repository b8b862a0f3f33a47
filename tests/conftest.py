import pytest

import wskit


@pytest.fixture
def clean_kit():
    """Start and end with nothing of wskit running (use with pytestmark = usefixtures("clean_kit"))."""
    wskit.stop_all()
    yield
    wskit.stop_all()
