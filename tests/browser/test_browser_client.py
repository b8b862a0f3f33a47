"""The learner's own browser as the client: direct, through jupyter-server-proxy, and with Socket.IO.

JupyterLab 4 in headless Chromium (Debian's), as in test_jupyterlab.py. After the browser has done its part,
the test adds a cell to the notebook and runs it: the cell asserts, in the kernel, on the events the widget
synced back from the browser.
"""

from __future__ import annotations

import pytest

from tests.browser.lab import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TOKEN, lab_server, require_chromium

require_chromium()

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - only once chromium is known to be there

CELLS = [
    "import wskit\nfrom wskit.widgets import BrowserClient, MessagePanel",
    'srv = wskit.EchoServer(name="echo")\nMessagePanel(srv, title="the kernel\'s server sees")',
    'direct = BrowserClient(srv, route="direct")\ndirect',
    # Run All: the browser connects once the cell above has shown the widget; this cell waits for it (bounded)
    'assert direct.wait_connected(30), "the browser did not connect"\nprint("THE BROWSER IS IN")',
    'proxied = BrowserClient(srv.url, route="proxy")\nproxied',
    'sio = wskit.SocketIOServer(name="sio")\n\n@sio.on("join")\nasync def join(sid, room):\n'
    '    await sio.sio.enter_room(sid, room)\n    return room\n\n'
    'browser_sio = BrowserClient(sio.url, route="direct", on_connect=[("join", ["lobby"])])\nbrowser_sio',
]

CHECK = """
assert [e["data"] for e in direct.of_type("message")] == ["hello from the browser"], direct.events
assert direct.resolved_route == "direct" and direct.of_type("open")[0]["readyState"] == 1
assert proxied.resolved_route == "proxy" and "/proxy/" in proxied.resolved_url
assert [e["data"] for e in proxied.of_type("message")] == ["through the proxy"], proxied.events
assert any(r.data == "through the proxy" for r in srv.log.messages("received"))
print("KERNEL ASSERTIONS PASSED")
"""

EMIT = """
joined = [sid for sid in sio.sio.manager.get_participants("/", "lobby")]
assert joined, "the browser is not in the lobby yet"
sio.emit("news", "to the lobby", room="lobby")
print("EMITTED TO THE LOBBY")
"""

CHECK_SIO = """
assert any('"news"' in e["data"] and "to the lobby" in e["data"] for e in browser_sio.of_type("message"))
print("SOCKET.IO ROOM MESSAGE REACHED THE BROWSER")
"""


CHECK_CLOSE = """
close = direct.of_type("close")[-1]
assert close["code"] == 1001 and close["wasClean"] is True, close  # the server said "going away"
print("CLOSE CODES SYNCED", close["code"], close["wasClean"])
"""


lab = pytest.fixture(scope="module")(lambda tmp_path_factory: (yield from lab_server(tmp_path_factory, CELLS)))


def output(page, text: str):
    """A cell's printed output (not its source) containing ``text``."""
    return page.locator(".jp-OutputArea-output pre", has_text=text)


def run_new_cell(page, source: str) -> None:
    page.evaluate(
        """async (source) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.model.sharedModel.insertCell(notebook.widgets.length, {cell_type: "code", source});
            notebook.activeCellIndex = notebook.widgets.length - 1;
            await window.jupyterapp.commands.execute("notebook:run-cell");
        }""",
        source,
    )


def test_the_browser_connects_directly_through_the_proxy_and_with_socketio(lab):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(f"{lab}/lab/tree/panels.ipynb?token={TOKEN}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_function(
            "window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        clients = page.locator(".wskit-browser-client")
        expect(clients).to_have_count(3, timeout=60_000)
        direct, proxied, socketio = clients.nth(0), clients.nth(1), clients.nth(2)
        for client in (direct, proxied, socketio):
            expect(client.locator("tr.wskit-bc-open")).to_have_count(1, timeout=20_000)

        direct.locator("input").fill("hello from the browser")
        direct.get_by_role("button", name="Send").click()
        expect(direct.locator("tr.wskit-bc-message", has_text="hello from the browser")).to_have_count(1)
        proxied.locator("input").fill("through the proxy")
        proxied.get_by_role("button", name="Send").click()
        expect(proxied.locator("tr.wskit-bc-message", has_text="through the proxy")).to_have_count(1)
        expect(proxied.locator(".wskit-bc-url")).to_contain_text("/proxy/")

        run_new_cell(page, CHECK)
        expect(output(page, "KERNEL ASSERTIONS PASSED")).to_have_count(1, timeout=20_000)
        run_new_cell(page, EMIT)
        expect(output(page, "EMITTED TO THE LOBBY")).to_have_count(1, timeout=20_000)
        expect(socketio.locator("tr.wskit-bc-message", has_text="to the lobby")).to_have_count(1, timeout=10_000)
        run_new_cell(page, CHECK_SIO)
        expect(output(page, "SOCKET.IO ROOM MESSAGE REACHED THE BROWSER")).to_have_count(1, timeout=20_000)

        expect(output(page, "THE BROWSER IS IN")).to_have_count(1)
        panel = page.locator(".wskit-message-panel").first
        expect(panel.locator(".wskit-row.received", has_text="through the proxy")).to_have_count(1)
        panel.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "browser_client_and_panel.png", full_page=False)
        direct.screenshot(path=ARTIFACTS / "browser_client.png")

        # The server goes away: the browser's close event says how (code and wasClean), synced to the kernel.
        run_new_cell(page, 'srv.close()\nprint("SERVER CLOSED")')
        expect(output(page, "SERVER CLOSED")).to_have_count(1, timeout=20_000)
        expect(direct.locator("tr.wskit-bc-close")).to_have_count(1, timeout=20_000)
        run_new_cell(page, CHECK_CLOSE)
        expect(output(page, "CLOSE CODES SYNCED")).to_have_count(1, timeout=20_000)
        browser.close()
