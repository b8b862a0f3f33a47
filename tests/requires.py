"""What a test needs that pip does not install: Node.js and npm, nginx, redis-server, Chromium.

A test module that needs one calls its ``require_*`` at the top::

    from tests.requires import require_node

    NODE, NPM = require_node()

On a learner's machine a missing program skips the module, saying how to install it. In CI (where ``CI`` is set)
it fails it instead: ``.ci/run`` installs every one, and a skip there would hide tests that never ran. One test that
needs a program, in a module that does not, takes the mark :func:`needs` instead.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

__all__ = [
    "IN_CI",
    "NO_CHROMIUM",
    "NO_NGINX",
    "NO_NODE",
    "NO_REDIS",
    "missing",
    "needs",
    "require_chromium",
    "require_nginx",
    "require_node",
    "require_redis",
]

#: True in CI, where a missing program fails the tests that need it.
IN_CI = bool(os.environ.get("CI"))

NO_NODE = "Node.js and npm are not installed (.ci/run installs them: apt-get install nodejs npm)"
NO_NGINX = "Debian's nginx is not installed (.ci/run installs it: apt-get install nginx)"
NO_REDIS = "Debian's redis-server is not installed (.ci/run installs it: apt-get install redis-server)"
NO_CHROMIUM = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"


def missing(reason: str) -> NoReturn:
    """Skip the calling test module for ``reason``; in CI, fail it."""
    if IN_CI:
        pytest.fail(reason, pytrace=False)  # in CI a missing program is a failure, never a skip
    pytest.skip(reason, allow_module_level=True)


def needs(found: bool, reason: str) -> pytest.MarkDecorator:
    """A mark that skips one test when what it needs is not ``found`` (never in CI: there the test runs, and fails)."""
    return pytest.mark.skipif(not found and not IN_CI, reason=reason)


def require_node() -> tuple[str, str]:
    """The paths of ``node`` and ``npm``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing(NO_NODE)
    return node, npm


def require_nginx() -> str:
    """The path of nginx (found where :func:`wskit.live.nginx.find_nginx` looks: PATH and /usr/sbin)."""
    from wskit.live.nginx import NginxMissing, find_nginx

    try:
        return find_nginx()
    except NginxMissing:
        missing(NO_NGINX)


def require_redis() -> str:
    """The path of ``redis-server``."""
    return shutil.which("redis-server") or missing(NO_REDIS)


def require_chromium() -> str:
    """The path of Debian's ``chromium``."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or missing(NO_CHROMIUM)
