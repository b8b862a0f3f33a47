"""Progress survives restarts, never breaks a check, and gates hints and solutions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from wskit import exercises as ex
from wskit.exercises import store

from .test_checks import define

pytestmark = pytest.mark.usefixtures("clean_kit")

ACCEPT = ex.exercise("accept_key")


def test_a_passed_exercise_is_saved_and_seen_by_a_new_process(progress_file):
    assert ex.check("accept_key", define(ACCEPT.solution, "accept_key")).passed
    saved = json.loads(progress_file.read_text())
    assert saved["exercises"]["accept_key"]["passed"] is True
    assert saved["exercises"]["accept_key"]["attempts"] == 1
    script = "from wskit import exercises as ex; p = ex.progress(); print(p.done); print(p.text())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "WSKIT_PROGRESS": str(progress_file)}).stdout
    assert out.splitlines()[0] == "['accept_key']"
    assert f"1 of {len(ex.EXERCISES)} exercises done" in out
    assert "✓ 02 accept_key" in out


def test_a_stub_check_saves_nothing(progress_file):
    assert ex.check("accept_key", define(ACCEPT.stub, "accept_key")).status == "not yet"
    assert not progress_file.exists()
    assert ex.progress().done == []


def test_a_failed_attempt_counts_but_is_not_done(progress_file):
    wrong = define("def accept_key(key):\n    return key\n", "accept_key")
    assert ex.check("accept_key", wrong).status == "failed"
    assert ex.check("accept_key", wrong).status == "failed"
    entry = store.load()["accept_key"]
    assert entry["attempts"] == 2 and not entry.get("passed")
    row = next(r for r in ex.progress().rows if r[1] == "accept_key")
    assert row[3] is False and row[4] == 2


def test_an_unwritable_home_never_fails_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the progress directory should be")
    monkeypatch.setenv("WSKIT_PROGRESS", str(blocker / "progress.json"))  # mkdir fails, even for root
    try:
        result = ex.check("accept_key", define(ACCEPT.solution, "accept_key"))
        assert result.passed
        assert any("kept in memory only" in note for note in result.notes), result.notes
        shown = ex.progress()
        assert "accept_key" in shown.done  # kept in this kernel's memory
        assert "kept in memory only" in shown.text()
    finally:
        store._memory.clear()
        store._problem = None


def test_a_corrupt_file_reads_as_empty_and_is_replaced(progress_file):
    progress_file.write_text("{not json")
    assert ex.progress().done == []
    assert ex.check("accept_key", define(ACCEPT.solution, "accept_key")).passed
    assert json.loads(progress_file.read_text())["exercises"]["accept_key"]["passed"]


def test_reset_forgets(progress_file):
    assert ex.check("unmask", define(ex.exercise("unmask").solution, "unmask")).passed
    ex.reset("unmask")
    assert ex.progress().done == []
    with pytest.raises(ValueError):
        ex.reset("no-such-exercise")


def test_hints_come_one_at_a_time_after_a_first_try(progress_file):
    before = ex.hint("accept_key")
    assert "after your first try" in before.title
    ex.check("accept_key", define(ACCEPT.stub, "accept_key"))  # looking at the stub's check opens the hints
    first, second, third, again = (ex.hint("accept_key") for _ in range(4))
    assert first.title == f"Hint 1 of {len(ACCEPT.hints)} for accept_key"
    assert ACCEPT.hints[0] in first.body and ACCEPT.hints[1] not in first.body
    assert ACCEPT.hints[1] in second.body
    assert "last hint" in third.text() and again.title == third.title
    assert store.load()["accept_key"]["hints"] == len(ACCEPT.hints)


def test_the_solution_opens_only_after_a_real_attempt(progress_file):
    ex.check("accept_key", define(ACCEPT.stub, "accept_key"))
    refused = ex.solution("accept_key")
    assert "after one real try" in refused.title and ACCEPT.solution not in refused.body
    ex.check("accept_key", define("def accept_key(key):\n    return key\n", "accept_key"))
    shown = ex.solution("accept_key")
    assert shown.body == ACCEPT.solution and shown.code
    assert "<pre>" in shown._repr_html_()
    assert store.load()["accept_key"]["solution_seen"] is True


def test_results_have_a_plain_text_form_and_a_widget(progress_file):
    result = ex.check("accept_key", define("def accept_key(key):\n    return key\n", "accept_key"))
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"] == result.text()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    view = result.widget()
    assert view.status == "failed" and "wskit-check-failed" in view._dom_classes
    view.show_hint()
    assert "Hint 1" in view._note.value
    view.show_solution()
    assert "accept_key" in view._note.value and "hashlib.sha1" in view._note.value
    assert "text/plain" in ex.progress()._repr_mimebundle_()
