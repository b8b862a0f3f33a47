"""BrowserClient without a browser: its settings, its guards, and the bundled socket.io-client."""

import json
import re
import time
from pathlib import Path

import pytest

from wskit.widgets import BrowserClient
from wskit.widgets.browserclient import _STATIC

ROOT = Path(__file__).parent.parent.parent


def test_a_websocket_client_for_a_kernel_server():
    client = BrowserClient("ws://127.0.0.1:8765/chat?name=me", autoconnect=False)
    assert (client.transport, client.port, client.path, client.route) == ("websocket", 8765, "/chat?name=me", "auto")
    assert client.socketio_esm == "" and client.events == []
    client.events = [{"type": "open", "readyState": 1}, {"type": "message", "data": "hi"}]
    assert client.of_type("message") == [{"type": "message", "data": "hi"}]
    assert "2 browser events" in repr(client)


def test_a_socketio_client_carries_the_bundled_library():
    client = BrowserClient("http://127.0.0.1:9000", on_connect=[("join", ["lobby"])], auth={"name": "me"})
    assert client.transport == "socket.io" and client.on_connect == [["join", ["lobby"]]]
    assert client.socketio_esm.startswith("/*!\n * Socket.IO v") and "export{" in client.socketio_esm.replace(" ", "")


def test_only_servers_on_this_machine():
    with pytest.raises(ValueError, match="loopback"):
        BrowserClient("ws://example.com:80/")
    with pytest.raises(ValueError, match="url"):
        BrowserClient("ftp://127.0.0.1:21/")


def test_the_bundled_library_is_the_version_the_lock_file_pins():
    bundled = (_STATIC / "socket.io.esm.min.js").read_text()
    version = re.search(r"Socket\.IO v(\d+\.\d+\.\d+)", bundled).group(1)
    lock = json.loads((ROOT / "tests" / "interop" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == version
    assert "import " not in bundled.split("*/", 1)[1][:200]  # self-contained: nothing to fetch at run time


def test_the_front_end_routes_through_the_proxy_away_from_this_machine():
    script = (_STATIC / "browser_client.js").read_text()
    assert "proxy/${port}" in script and '"localhost", "127.0.0.1"' in script


def test_wait_connected_needs_the_server_and_never_waits_without_a_front_end():
    import time

    from wskit.live.log import TrafficLog

    class Server:  # what BrowserClient takes from a wskit server: its url and its log
        url = "ws://127.0.0.1:8765/"
        log = TrafficLog()

    client = BrowserClient(Server(), autoconnect=False)
    assert client.port == 8765
    started = time.monotonic()
    assert client.wait_connected(timeout=30) is False  # no notebook front end here: no browser will come
    assert time.monotonic() - started < 1
    with pytest.raises(TypeError, match=r"BrowserClient\(srv\)"):
        BrowserClient("ws://127.0.0.1:8765/", autoconnect=False).wait_connected()
    with pytest.raises(TypeError, match="server or its url"):
        BrowserClient(42)


def test_the_browser_reports_close_codes_for_socketio_too():
    script = (_STATIC / "browser_client.js").read_text()
    assert "wasClean: close.wasClean" in script and "code: event ? event.code : null" in script


def test_wait_connected_waits_for_a_new_connection_when_a_front_end_shows_it(monkeypatch):
    import threading

    from wskit.live.log import TrafficLog
    from wskit.widgets import browserclient

    class Server:
        url = "http://127.0.0.1:9000"
        log = TrafficLog()
        log.protocol = "socket.io"  # as a SocketIOServer's

    Server.log.add("received", "MESSAGE", data="40", size=2, conn=1)  # a client that was there before
    client = BrowserClient(Server(), autoconnect=False)
    monkeypatch.setattr(browserclient, "front_end_attached", lambda: True)
    assert client.wait_connected(timeout=0.2) is False  # nobody new: bounded, then False
    Server.log.add("received", "MESSAGE", data="2", size=1, conn=1)  # the old client's traffic does not count
    Server.log.add("sent", "OPEN", data='0{"sid":"x"}', size=12, conn=2)  # the browser's Engine.IO session...
    Server.log.add("received", "MESSAGE", data="40", size=2, conn=2)  # ...and its Socket.IO CONNECT
    assert client.wait_connected(timeout=0.2) is False  # not connected yet: the server has not answered
    timer = threading.Timer(0.1, lambda: Server.log.add("sent", "MESSAGE", data='40{"sid":"y"}', size=13, conn=2))
    timer.start()
    assert client.wait_connected(timeout=10) is True  # the server accepted the browser's Socket.IO connection
    timer.join()


def test_wait_connected_waits_for_the_first_on_connect_event_and_sees_a_refusal(monkeypatch):
    from wskit.live.log import TrafficLog
    from wskit.widgets import browserclient

    class Server:
        url = "http://127.0.0.1:9000"
        log = TrafficLog()
        log.protocol = "socket.io"

    monkeypatch.setattr(browserclient, "front_end_attached", lambda: True)
    joins = BrowserClient(Server(), autoconnect=False, on_connect=[("join", ["lobby"])])
    Server.log.add("sent", "MESSAGE", data='40{"sid":"y"}', size=13, conn=1)
    Server.log.add("received", "MESSAGE", data='42/admin,["stats"]', size=18, conn=1)  # another namespace
    # socket.io-client reports "connect" in the task that sends the on_connect events: wait for the first
    assert joins.wait_connected(timeout=0.2) is False
    Server.log.add("received", "MESSAGE", data='42["join","lobby"]', size=18, conn=1)
    assert joins.wait_connected(timeout=10) is True

    refused = BrowserClient(Server(), autoconnect=False)
    Server.log.add("sent", "MESSAGE", data='44/admin,{"message":"admins only"}', size=34, conn=2)  # not ours
    assert refused.wait_connected(timeout=0.2) is False
    Server.log.add("sent", "MESSAGE", data='44{"message":"no"}', size=18, conn=2)
    started = time.monotonic()
    assert refused.wait_connected(timeout=10) is False  # refused: said at once, not after the timeout
    assert time.monotonic() - started < 5


def test_wait_connected_through_a_fault_proxy_takes_its_open(monkeypatch):
    import wskit
    from wskit.live.faults import FaultProxy
    from wskit.widgets import browserclient

    monkeypatch.setattr(browserclient, "front_end_attached", lambda: True)
    srv = wskit.SocketIOServer(name="behind")
    try:
        link = FaultProxy(srv.url, name="link")
        browser = BrowserClient(link, autoconnect=False)
        assert browser.transport == "socket.io"  # an http:// url, but the proxy's log has only OPEN and CLOSED
        client = wskit.SocketIOClient(link.url, name="through", transports=["websocket"])
        assert browser.wait_connected(timeout=10) is True
        client.disconnect()
    finally:
        wskit.stop_all()


def test_wait_connected_takes_a_websocket_handshake(monkeypatch):
    from wskit.live.log import TrafficLog
    from wskit.widgets import browserclient

    class Server:
        url = "ws://127.0.0.1:9000/"
        log = TrafficLog()

    monkeypatch.setattr(browserclient, "front_end_attached", lambda: True)
    client = BrowserClient(Server(), autoconnect=False)
    assert client.wait_connected(timeout=0.2) is False
    Server.log.add("event", "OPEN", conn=1)
    assert client.wait_connected(timeout=10) is True
