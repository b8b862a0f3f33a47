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
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from wskit import exercises as ex

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
TOKEN = "wskit-exercise-test"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None:
    reason = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

EXERCISE = ex.exercise("accept_key")
CELLS = ["import wskit\nfrom wskit import exercises as ex", EXERCISE.stub, EXERCISE.check_cell]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback with a notebook of CELLS; progress saved under the test's own directory."""
    root = tmp_path_factory.mktemp("lab")
    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "exercise.ipynb")
    settings = root / ".settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        target = settings / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "WSKIT_PROGRESS": str(root / "progress.json")}
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError("JupyterLab did not start:\n" + (root / "lab.log").read_text()) from None
            time.sleep(0.3)
    yield url, root
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


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
