"""Every notebook of the course, opened in JupyterLab and run with "Run All", as a learner would.

nbval runs the notebooks without a front end; this test runs them in a real JupyterLab 4 in headless
Chromium, where widgets render, BrowserClient cells connect from the page, and "Run All" queues every cell
at once. For each notebook it asserts: every code cell ran, no cell has an error output, and every widget
output rendered (no "Error displaying widget", no widget view left unrendered). A screenshot of each
notebook's last widget or cell goes to tests/artifacts/run_all/.

The notebooks are copied to a temporary folder first: JupyterLab's autosave must never write into the
repository's stored outputs.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, TOKEN, lab_root_server, require_chromium

require_chromium()

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

NOTEBOOKS = sorted((Path(__file__).parent.parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = Path(__file__).parent.parent / "artifacts" / "run_all"
RUN_ALL_TIMEOUT = 240  # seconds for one notebook (the slowest runs in well under a minute on 2 cores)

STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model) return null;
  const cells = [];
  for (const cell of panel.content.model.cells) {
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    cells.push({
      count: cell.executionCount,
      source: cell.sharedModel.getSource().slice(0, 80),
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      widgets: outputs.filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length,
    });
  }
  const kernel = panel.sessionContext?.session?.kernel;
  return {cells, kernel: kernel ? kernel.status : null};
}"""


STATE_CLEARED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return [...panel.content.model.cells].every(c => c.type !== 'code' || c.executionCount === null);
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    for path in NOTEBOOKS:
        shutil.copy(path, root / path.name)
    images = NOTEBOOKS[0].parent / "images"
    if images.is_dir():
        shutil.copytree(images, root / "images")
    yield from lab_root_server(root)


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One JupyterLab tab for every notebook, as a learner works through the course: each test opens its notebook
    in it and closes it again (loading JupyterLab anew for each notebook cost some 5 s of the 2 cores)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{lab}/lab?reset&token={TOKEN}")  # reset: no tabs restored from a workspace
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    yield page
    page.close()


@pytest.mark.timeout(RUN_ALL_TIMEOUT + 120)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_run_all_in_jupyterlab(lab_page, path):
    page = lab_page
    try:
        page.evaluate("name => { window.jupyterapp.commands.execute('docmanager:open', {path: name}); }", path.name)
        page.wait_for_function(
            "name => { const p = window.jupyterapp.shell.currentWidget;"
            " return p?.context?.path === name && p.sessionContext?.session?.kernel?.status === 'idle'"
            " && p.content.widgets.length > 0"
            " && document.querySelectorAll('.jp-NotebookPanel').length === 1; }",  # the last one is gone
            arg=path.name, timeout=60_000,
        )
        # as a learner would after opening a stored notebook: clear what is shown, then Run All
        page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        page.wait_for_function(STATE_CLEARED, timeout=30_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        state = wait_until_done(page, path.name)
        failed = [(c["source"], c["errors"]) for c in state["cells"] if c["errors"]]
        assert not failed, f"{path.name}: cells with errors after Run All: {failed}"
        not_run = [c["source"] for c in state["cells"] if c["count"] is None]
        assert not not_run, f"{path.name}: cells Run All did not reach: {not_run}"
        expected_widgets = sum(c["widgets"] for c in state["cells"])
        if expected_widgets:
            rendered = page.locator(".jp-OutputArea-output .jupyter-widgets, .jp-OutputArea-output .widget-box")
            deadline = time.monotonic() + 30
            while rendered.count() == 0 and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert rendered.count() > 0, f"{path.name}: {expected_widgets} widget outputs, none rendered"
        browsers = page.locator(".wskit-browser-client")
        if browsers.count():  # Run All waits for the browser (wait_connected) before the cells that stop its server
            opened = page.locator(".wskit-browser-client:has(tr.wskit-bc-open)")
            assert opened.count() >= 1, f"{path.name}: no BrowserClient connected before Run All stopped its server"
        broken = page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
        assert broken.count() == 0, f"{path.name}: {broken.first.inner_text()}"
        last = page.locator(".jp-OutputArea-output").last
        if last.count():
            last.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / f"{path.stem}.png")
    finally:  # shut every open notebook's kernel down and close it unsaved (autosave is off; the copy is thrown
        page.evaluate(  # away anyway), whatever failed: the next notebook must find the tab as empty as this one did
            "async () => { for (const p of [...window.jupyterapp.shell.widgets('main')]) {"
            "  if (!p.context) continue;"
            "  try { await p.sessionContext?.shutdown(); } catch (e) { /* a dead kernel: nothing to shut down */ }"
            "  p.dispose(); } }"
        )


def wait_until_done(page, name: str) -> dict:
    """Poll the notebook model until every code cell has run (or one failed) and the kernel is idle."""
    deadline = time.monotonic() + RUN_ALL_TIMEOUT
    state: dict = {}
    while time.monotonic() < deadline:
        state = page.evaluate(STATE) or {}
        cells = state.get("cells") or []
        if any(c["errors"] for c in cells):
            return state  # Run All stops at an error: report it now
        if cells and all(c["count"] is not None for c in cells) and state.get("kernel") == "idle":
            return state
        page.wait_for_timeout(200)
    pending = [c["source"] for c in state.get("cells", []) if c["count"] is None]
    raise AssertionError(f"{name}: Run All did not finish within {RUN_ALL_TIMEOUT} s; still pending: {pending[:3]}")
