"""What notebook 03 says about the browser's close event, checked in a real (headless, Debian) Chromium.

A server stopped politely: ``code`` 1001, ``wasClean`` true. A server process killed: ``code`` 1006, ``wasClean``
false. No JupyterLab here: the page is blank and runs the same ``new WebSocket(url)`` / ``onclose`` code as the
BrowserClient widget.
"""

from __future__ import annotations

import pytest

import wskit

# Debian's chromium, driven through executable_path: a browser is never downloaded.
from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, require_chromium
from wskit.live.faults import EchoProcess

require_chromium()

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

OPEN = """url => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  window.closes = [];
  ws.onopen = () => resolve(ws.readyState);
  ws.onerror = () => reject(new Error("the browser could not connect"));
  ws.onclose = (e) => window.closes.push({ code: e.code, reason: e.reason, wasClean: e.wasClean });
})"""


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()
            wskit.stop_all()


def close_event(page, url, end):
    assert page.evaluate(OPEN, url) == 1  # OPEN
    end()
    page.wait_for_function("window.closes.length > 0", timeout=10_000)
    return page.evaluate("window.closes[0]")


def test_a_polite_shutdown_is_1001_and_clean_in_the_browser(page):
    srv = wskit.EchoServer(name="leaving")
    assert close_event(page, srv.url, srv.stop) == {"code": 1001, "reason": "", "wasClean": True}


def test_a_killed_server_is_1006_and_not_clean_in_the_browser(page):
    doomed = EchoProcess(name="doomed")
    assert close_event(page, doomed.url, doomed.kill) == {"code": 1006, "reason": "", "wasClean": False}
