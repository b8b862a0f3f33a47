"""tests/requires.py: a missing program skips a test on a learner's machine and fails it in CI."""

from __future__ import annotations

import pytest

from tests import requires


def test_a_missing_program_skips_outside_ci(monkeypatch):
    monkeypatch.setattr(requires, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install nginx"):
        requires.missing(requires.NO_NGINX)


def test_a_missing_program_fails_in_ci(monkeypatch):
    monkeypatch.setattr(requires, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="apt-get install nodejs npm"):
        requires.missing(requires.NO_NODE)


def test_require_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(requires, "IN_CI", False)
    monkeypatch.setattr(requires.shutil, "which", lambda name: None)
    for require, words in ((requires.require_node, "Node.js"), (requires.require_redis, "redis-server"),
                           (requires.require_chromium, "chromium")):
        with pytest.raises(pytest.skip.Exception, match=words):
            require()
    monkeypatch.setattr(requires.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert requires.require_node() == ("/usr/bin/node", "/usr/bin/npm")
    assert requires.require_redis() == "/usr/bin/redis-server"


def test_the_mark_skips_only_outside_ci(monkeypatch):
    monkeypatch.setattr(requires, "IN_CI", False)
    assert requires.needs(False, "no node").mark.args == (True,)  # skipif(True): skipped
    assert requires.needs(True, "node").mark.args == (False,)
    monkeypatch.setattr(requires, "IN_CI", True)
    assert requires.needs(False, "no node").mark.args == (False,)
