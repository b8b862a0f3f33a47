"""An exercise in a real JupyterLab 4, driven through headless Chromium like a learner.

The check widget says "not yet" under the stub; the Hint button shows a hint; the reference solution typed into
the stub's cell and run, then the check run again, turns the widget to "passed" (after a wrong answer that
turns it to "failed", naming the mistake). Screenshots go to
tests/artifacts/.

JupyterLab starts on loopback with a token (and --allow-root), as in test_jupyterlab.py; Chromium is Debian's,
driven by Playwright through executable_path (no browser is ever downloaded).
"""

from __future__ import annotations

import json

import pytest

from tests.browser.lab import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TOKEN, lab_server, require_chromium
from wskit import exercises as ex

require_chromium()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

EXERCISE = ex.exercise("accept_key")
CELLS = ["import wskit\nfrom wskit import exercises as ex", EXERCISE.stub, EXERCISE.check_cell]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback with a notebook of CELLS; progress saved under the test's own directory."""
    progress = tmp_path_factory.mktemp("progress") / "progress.json"
    for url in lab_server(tmp_path_factory, CELLS, name="exercise.ipynb", WSKIT_PROGRESS=str(progress)):
        yield url, progress.parent


WRONG = """import base64
import hashlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).hexdigest().encode()).decode()"""


def type_into_cell(page, index: int, text: str) -> None:
    """Replace cell ``index``'s text by typing ``text``; run it and the check cell below it."""
    editor = page.locator(".jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    expect(editor).to_contain_text("hashlib.sha1", timeout=10_000)
    page.keyboard.press("Shift+Enter")  # runs the cell, moves to the check cell
    page.keyboard.press("Shift+Enter")  # runs the check


def test_the_check_widget_goes_from_not_yet_to_passed(lab):
    url, root = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{url}/lab/tree/exercise.ipynb?token={TOKEN}")
            page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            page.wait_for_function(
                "window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
                timeout=60_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            check = page.locator(".wskit-exercise-check")
            expect(check).to_have_count(1, timeout=60_000)
            expect(check.locator(".wskit-check-status")).to_have_text("… not yet", timeout=30_000)
            no_news = page.get_by_role("button", name="No")
            if no_news.count():
                no_news.first.click()

            check.get_by_role("button", name="Hint").click()  # the stub's check was a first try: hints open
            expect(check).to_contain_text("Hint 1 of", timeout=15_000)
            check.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "exercise_not_yet.png")

            # A common wrong answer first: the check names the mistake.
            type_into_cell(page, 1, WRONG)
            expect(page.locator(".wskit-exercise-check .wskit-check-status")).to_have_text("✗ failed",
                                                                                          timeout=60_000)
            expect(page.locator(".wskit-exercise-check")).to_contain_text("base64 of the hex digest")
            page.locator(".wskit-exercise-check").scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "exercise_failed.png")

            # Then the solution, typed into the stub's cell as a learner would, and the check again.
            type_into_cell(page, 1, EXERCISE.solution)
            passed = page.locator(".wskit-exercise-check .wskit-check-status")
            expect(passed).to_have_text("✓ passed", timeout=60_000)
            result = page.locator(".wskit-exercise-check")
            expect(result).to_contain_text("matches a live server's answer")
            result.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "exercise_passed.png")
        finally:
            browser.close()
    saved = json.loads((root / "progress.json").read_text())
    assert saved["exercises"]["accept_key"]["passed"] is True  # the kernel saved the progress
