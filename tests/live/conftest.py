import pytest


@pytest.fixture(autouse=True)
def _every_test_cleans_up(clean_kit):
    """Every test here starts and ends with nothing of wskit running (tests/conftest.py's clean_kit)."""
