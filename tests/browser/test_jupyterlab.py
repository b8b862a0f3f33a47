"""The panels in a real JupyterLab 4, driven through headless Chromium.

The test starts JupyterLab on loopback with a token, opens a notebook that
creates live servers and panels, runs it, types into the widgets and clicks
them like a learner, and waits for the result to show in the page.
Screenshots go to tests/artifacts/ for people to look at.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright
drives it through `executable_path` and never downloads a browser.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.lab import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TOKEN, lab_server, require_chromium

require_chromium()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

CELLS = [
    "import wskit\nfrom wskit.widgets import ChatRoom, FrameView, HandshakeView, MessagePanel",
    'srv = wskit.EchoServer(name="echo")\nclient = wskit.connect(srv.url, name="learner")\n'
    'client.send("hello from the kernel")\nclient.send(\'{"move": [3, 4]}\')\nclient.send(b"\\x00\\x01\\x02")',
    'MessagePanel(client, title="echo client")',
    "from wskit.live.log import TrafficLog\nmany = TrafficLog(maxlen=100_000, max_bytes=64 * 2**20)\n"
    "for i in range(100_000):\n"
    "    many.add('sent' if i % 2 else 'received', 'TEXT',\n"
    "             data=f'{{\"seq\": {i}, \"price\": {100 + i % 7}}}', size=30)\n"
    'big = MessagePanel(many, title="100,000 records", keep=100_000)\nbig',
    'stream = TrafficLog()\nfor i in range(300):\n    stream.add("received", "TEXT", data=f"tick {i}", size=8)\n'
    'MessagePanel(stream, title="a stream")',
    "HandshakeView(client)",
    'chat = wskit.ChatServer(name="chat")\n'
    'people = [wskit.connect(chat.url_for(n, room), name=n) for n, room in '
    '[("alice", "lobby"), ("bob", "lobby"), ("carol", "games")]]\nChatRoom(people)',
    'FrameView(bytes.fromhex("818537fa213d7f9f4d5158"), title="a masked text frame")',
    'from wskit.widgets import Question, Quiz\nQuiz([Question("Which status code accepts an upgrade?", '
    '("200", "101", "426"), 1, "101 Switching Protocols.")])',
]


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


def panel_titled(page, title: str):
    return page.locator(".wskit-message-panel", has=page.locator(".wskit-mp-title", has_text=title)).first


def test_message_panel_send_box_round_trip(page):
    panel = panel_titled(page, "echo client")
    table = panel.locator(".wskit-message-table")
    expect(table).to_contain_text("hello from the kernel", timeout=15_000)
    expect(panel.locator(".wskit-badge")).to_have_text("open")
    panel.get_by_placeholder("message to send").fill("hello from the browser")
    panel.locator("button[title=Send]").click()
    echoed = table.locator(".wskit-row.received", has_text="hello from the browser")
    expect(echoed).to_have_count(1, timeout=15_000)
    expect(table.locator(".wskit-row.sent", has_text="hello from the browser")).to_have_count(1)
    # oldest first, as in DevTools: the OPEN event, then the kernel's messages, then the browser's
    expect(table.locator(".wskit-row").first).to_contain_text("OPEN")
    expect(table.locator(".wskit-row").last).to_contain_text("hello from the browser")
    expect(panel.locator(".wskit-mp-totals")).to_contain_text("↑ 4 sent")
    panel.get_by_placeholder("message to send").fill("{not json")
    panel.locator(".wskit-mp-kind").select_option("JSON")
    panel.locator("button[title=Send]").click()
    expect(panel.locator(".wskit-mp-notice")).to_contain_text("not valid JSON")
    expect(panel.get_by_placeholder("message to send")).to_have_value("{not json")  # kept, to be fixed
    panel.locator(".wskit-mp-kind").select_option("text")
    panel.get_by_placeholder("message to send").fill("")

    panel.locator("button[title=Disconnect]").click()
    expect(panel.locator(".wskit-badge")).to_contain_text("closed · 1000", timeout=15_000)
    panel.locator("button[title=Connect]").click()
    expect(panel.locator(".wskit-badge")).to_have_text("open", timeout=15_000)
    page.screenshot(path=ARTIFACTS / "jupyterlab.png")


def test_message_panel_filters_in_the_browser(page):
    panel = panel_titled(page, "echo client")
    table = panel.locator(".wskit-message-table")
    expect(table.locator(".wskit-row.received", has_text="hello from the kernel")).to_have_count(1, timeout=15_000)
    panel.get_by_role("button", name="Sent", exact=True).click()
    expect(table.locator(".wskit-row.received")).to_have_count(0)
    expect(table.locator(".wskit-row.sent", has_text="hello from the kernel")).to_have_count(1)
    panel.get_by_role("button", name="Control", exact=True).click()
    expect(table.locator(".wskit-row", has_text="hello")).to_have_count(0)
    panel.get_by_role("button", name="All", exact=True).click()
    panel.get_by_placeholder("filter (regex)").fill("mo+ve")
    expect(table.locator(".wskit-row")).to_have_count(2)  # sent and echoed
    panel.get_by_placeholder("filter (regex)").fill("(unclosed")
    expect(panel.locator(".wskit-mp-regex.invalid")).to_have_count(1)
    panel.get_by_placeholder("filter (regex)").fill("")
    expect(table.locator(".wskit-row", has_text="hello from the kernel")).to_have_count(2)


def test_message_panel_detail_pane_json_tree_hex_dump_and_copy(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel = panel_titled(page, "echo client")
    table = panel.locator(".wskit-message-table")
    table.locator(".wskit-row.received", has_text="move").click()
    detail = panel.locator(".wskit-mp-detail")
    expect(detail).to_be_visible()
    tree = detail.locator(".wskit-json")
    expect(tree.locator("summary").first).to_contain_text("1 key")
    expect(tree.locator("details details summary")).to_contain_text("move")
    expect(tree.locator(".leaf .number")).to_have_text(["3", "4"])
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=ARTIFACTS / "message_panel.png")
    if os.environ.get("WSKIT_UPDATE_SCREENSHOTS"):  # the README's picture, refreshed on purpose (a test run leaves
        # the checkout as it found it)
        panel.screenshot(path=Path(__file__).parent.parent.parent / "notebooks" / "images" /
                         "jupyterlab_message_panel.png")
    tree.locator("details details summary").click()  # collapse "move"
    expect(tree.locator(".leaf .number").first).to_be_hidden()
    detail.locator("button[title=Copy]").click()
    expect(detail.locator("button[title=Copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == '{"move": [3, 4]}'

    table.locator(".wskit-row.received", has_text="00 01 02").click()
    expect(detail.locator(".wskit-hex")).to_contain_text("00000000")
    assert detail.locator(".wskit-hex").inner_text() == "00000000  00 01 02" + " " * 42 + "|...|"
    expect(detail).to_contain_text("BINARY")
    panel.screenshot(path=ARTIFACTS / "message_panel_hex.png")
    detail.locator("button[title=Close]").click()
    expect(detail).to_be_hidden()


def test_message_panel_export_writes_files_in_the_kernel(page):
    panel = panel_titled(page, "echo client")
    panel.locator("button[title='Export JSON']").click()
    expect(panel.locator(".wskit-mp-notice")).to_contain_text("records to messages-echo-client.json", timeout=15_000)
    panel.locator("button[title='Export HAR']").click()
    expect(panel.locator(".wskit-mp-notice")).to_contain_text("records to messages-echo-client.har", timeout=15_000)


def test_message_panel_follows_until_scrolled_up(page):
    panel = panel_titled(page, "a stream")
    panel.scroll_into_view_if_needed()
    viewport = panel.locator(".wskit-mp-viewport")
    expect(panel.locator(".wskit-mp-count")).to_contain_text("300 of 300 rows", timeout=30_000)
    expect(viewport.locator(".wskit-row").last).to_contain_text("tick 299")  # following: the newest in view
    expect(panel.locator(".wskit-mp-follow")).to_be_checked()
    viewport.evaluate("el => { el.scrollTop = 0; }")
    expect(panel.locator(".wskit-mp-follow")).not_to_be_checked()  # scrolled up: no longer following
    expect(viewport.locator(".wskit-row").first).to_contain_text("tick 0")
    panel.locator(".wskit-mp-follow").check()
    expect(viewport.locator(".wskit-row").last).to_contain_text("tick 299")
    panel.get_by_role("button", name="Pause", exact=True).click()
    expect(panel.locator(".wskit-mp-count")).to_contain_text("paused")
    panel.get_by_role("button", name="Resume", exact=True).click()
    panel.locator(".wskit-mp-time").select_option("wall clock")  # time as the wall clock, as DevTools can
    expect(panel.locator(".wskit-mp-head")).to_contain_text("time")
    expect(viewport.locator(".wskit-row span").nth(2)).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))
    panel.locator("button[title=Clear]").click()  # clears here and in the kernel
    expect(panel.locator(".wskit-mp-count")).to_contain_text("0 of 0 rows", timeout=15_000)
    expect(viewport).to_contain_text("no messages yet")


def test_the_panel_follows_jupyterlab_dark_theme(page):
    panel = panel_titled(page, "echo client")
    light = panel.evaluate("el => getComputedStyle(el).backgroundColor")
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    try:
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        expect(panel).to_have_css("background-color", "rgb(33, 33, 33)", timeout=30_000)  # --jp-layout-color1
        dark = panel.evaluate("el => getComputedStyle(el).backgroundColor")
        assert dark != light, (light, dark)
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=ARTIFACTS / "message_panel_dark.png")
    finally:
        page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")


SCROLL_AND_MEASURE = """
async (viewport) => {
  const frames = [];
  const tasks = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => tasks.push(e.duration)));
  observer.observe({type: "longtask", buffered: false});
  let last = performance.now(), running = true;
  const tick = (now) => { frames.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const settle = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const seen = [];
  for (const top of [0, 1e9, 0, 1e9]) {
    viewport.scrollTop = top;
    await settle();
    await settle();
    seen.push(viewport.querySelector(".wskit-row:first-child").textContent);
  }
  running = false;
  observer.disconnect();
  return {maxFrame: Math.max(...frames.slice(1)), longestTask: Math.max(0, ...tasks), seen,
          domRows: viewport.querySelectorAll(".wskit-row").length};
}
"""

HEAP_BOUND_MB = 150
LONGEST_TASK_BOUND_MS = 300


def test_message_panel_scrolls_100000_rows(page):
    panel = panel_titled(page, "100,000 records")
    panel.scroll_into_view_if_needed()
    expect(panel.locator(".wskit-mp-count")).to_contain_text("100000 of 100000 rows", timeout=120_000)
    viewport = panel.locator(".wskit-mp-viewport")
    result = viewport.evaluate(SCROLL_AND_MEASURE)
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    heap_mb = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
    print(f"100,000 rows: {result}, JS heap {heap_mb:.1f} MB")
    assert '"seq": 0,' in result["seen"][0] and '"seq": 99' in result["seen"][1]
    assert result["domRows"] <= 60  # virtualized: only the rows in view exist
    # The target is no frame over 100 ms (benchmarks/panel_ingest.py reports it); on this shared 2-core machine
    # JupyterLab's page measured 74-119 ms for its longest task while jumping, so the test keeps a margin that
    # noise does not cross but a panel drawing all 100,000 rows (seconds) would.
    assert result["longestTask"] <= LONGEST_TASK_BOUND_MS, result
    assert heap_mb < HEAP_BOUND_MB  # the whole JupyterLab page, with 100,000 rows kept
    panel.screenshot(path=ARTIFACTS / "message_panel_100k.png")


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
    expect(quiz).to_contain_text("Score: 0 / 1")  # the first attempt is the one scored
    quiz.screenshot(path=ARTIFACTS / "quiz.png")
