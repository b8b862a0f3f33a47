"""The panels in a real JupyterLab 4, driven through headless Chromium.

The test starts JupyterLab on loopback with a token, opens a notebook that
creates live servers and panels, runs it, types into the widgets and clicks
them like a learner, and waits for the result to show in the page.
Screenshots go to tests/artifacts/ for people to look at.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright
drives it through `executable_path` and never downloads a browser.
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

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
TOKEN = "wskit-browser-test"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    reason = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)  # in CI a missing browser is a failure, never a skip
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

CELLS = [
    "import wskit\nfrom wskit.widgets import ChatRoom, FrameView, HandshakeView, MessagePanel",
    'srv = wskit.EchoServer(name="echo")\nclient = wskit.connect(srv.url, name="learner")\n'
    'client.send("hello from the kernel")\nclient.send(\'{"move": [3, 4]}\')\nclient.send(b"\\x00\\x01\\x02")',
    'MessagePanel(client, title="echo client")',
    "HandshakeView(client)",
    'chat = wskit.ChatServer(name="chat")\n'
    'people = [wskit.connect(chat.url_for(n, room), name=n) for n, room in '
    '[("alice", "lobby"), ("bob", "lobby"), ("carol", "games")]]\nChatRoom(people)',
    'FrameView(bytes.fromhex("818537fa213d7f9f4d5158"), title="a masked text frame")',
    'from wskit.widgets import Question, Quiz\nQuiz([Question("Which status code accepts an upgrade?", '
    '("200", "101", "426"), 1, "101 Switching Protocols.")])',
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_server(tmp_path_factory, cells):
    """Start JupyterLab on loopback with a notebook of ``cells``; yield its URL; stop it."""
    root = tmp_path_factory.mktemp("lab")
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "panels.ipynb")
    # Settings for a test: render every cell (no windowing, which detaches and re-renders widgets scrolled out
    # of view), and no news to fetch from a network this machine does not reach.
    settings = root / ".settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        target = settings / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        ],
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
    yield url
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    yield from lab_server(tmp_path_factory, CELLS)


@pytest.fixture(scope="module")
def page(lab):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{lab}/lab/tree/panels.ipynb?token={TOKEN}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        page.wait_for_function(
            "document.querySelector('.jp-NotebookPanel') && "
            "window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_selector(".wskit-message-panel", timeout=60_000)
        no_news = page.get_by_role("button", name="No")
        if no_news.count():
            no_news.first.click()
        yield page
        browser.close()


def test_message_panel_send_box_round_trip(page):
    panel = page.locator(".wskit-message-panel").first
    table = panel.locator(".wskit-message-table")
    expect(table).to_contain_text("hello from the kernel", timeout=15_000)
    expect(panel.locator(".wskit-badge")).to_have_text("open")
    panel.get_by_placeholder("message to send").fill("hello from the browser")
    panel.get_by_role("button", name="Send").click()
    echoed = table.locator("tr.received", has_text="hello from the browser")
    expect(echoed).to_have_count(1, timeout=15_000)
    expect(table.locator("tr.sent", has_text="hello from the browser")).to_have_count(1)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=ARTIFACTS / "message_panel.png")

    panel.get_by_role("button", name="Control").click()
    expect(table.locator("tr.received", has_text="hello from the browser")).to_have_count(0)
    panel.get_by_role("button", name="All").click()
    panel.locator("button[title=Disconnect]").click()
    expect(panel.locator(".wskit-badge")).to_contain_text("closed · 1000", timeout=15_000)
    panel.locator("button[title=Connect]").click()
    expect(panel.locator(".wskit-badge")).to_have_text("open", timeout=15_000)
    page.screenshot(path=ARTIFACTS / "jupyterlab.png")


def test_handshake_view_shows_both_sides(page):
    view = page.locator(".wskit-handshake-view").first
    expect(view).to_contain_text("Sec-WebSocket-Accept", timeout=15_000)
    expect(view).to_contain_text("✓ matches")
    expect(view).to_contain_text("client-side check: valid")
    view.scroll_into_view_if_needed()
    view.screenshot(path=ARTIFACTS / "handshake_view.png")


def test_chat_room_delivers_to_the_room_only(page):
    room = page.locator(".wskit-chat-room").first
    room.scroll_into_view_if_needed()
    room.get_by_placeholder("alice says…").fill("hi lobby")
    room.get_by_role("button", name="Send").first.click()
    row = room.locator("tr", has_text="hi lobby")
    expect(row).to_have_count(1, timeout=15_000)
    # alice and bob are in the lobby, carol is not.
    expect(row.locator("td")).to_have_text(["1", "alice", "lobby", "hi lobby", "✓", "✓", "·"])
    room.screenshot(path=ARTIFACTS / "chat_room.png")


def test_frame_view_draws_the_bits(page):
    view = page.locator(".wskit-frameview").first
    view.scroll_into_view_if_needed()
    expect(view).to_contain_text("masking key")
    expect(view.locator("td[title]")).to_have_count(16)
    view.screenshot(path=ARTIFACTS / "frame_view.png")


def test_quiz_checks_and_scores(page):
    quiz = page.locator(".wskit-quiz").first
    quiz.scroll_into_view_if_needed()
    quiz.get_by_role("button", name="Check").click()
    expect(quiz).to_contain_text("pick an answer first")
    quiz.get_by_label("200").check()
    quiz.get_by_role("button", name="Check").click()
    expect(quiz).to_contain_text("not quite")
    quiz.get_by_label("101").check()
    quiz.get_by_role("button", name="Check").click()
    expect(quiz).to_contain_text("Score: 1 / 1")
    quiz.screenshot(path=ARTIFACTS / "quiz.png")
