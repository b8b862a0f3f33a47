import pytest

from wskit.exercises import core


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    """Progress goes to a fresh file under tmp_path; nothing of a previous test is remembered."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("WSKIT_PROGRESS", str(path))
    core._checked_here.clear()
    yield path
    core._checked_here.clear()
