"""MessagePanel, HandshakeView and ChatRoom, tested without a kernel."""

from __future__ import annotations

import json
import time

import pytest

import wskit
from wskit.codec import handshake as hs
from wskit.live.log import TrafficLog
from wskit.widgets import ChatRoom, HandshakeView, MessagePanel
from wskit.widgets._throttle import Throttle
from wskit.widgets.messagepanel import parse_outgoing


def client_log() -> TrafficLog:
    log = TrafficLog()
    log.add("event", "OPEN", info="/")
    log.add("sent", "TEXT", data="hello", size=5)
    log.add("received", "TEXT", data="hello", size=5)
    log.add("sent", "TEXT", data='{"move": [1, 2]}', size=16)
    log.add("received", "BINARY", data=b"\x00\xff", size=2)
    log.add("sent", "PING", data=b"1234", size=4)
    log.add("received", "PONG", data=b"1234", size=4)
    return log


def rows(panel: MessagePanel) -> list[str]:
    return [f"{r.direction} {r.opcode}" for r in panel.visible()]


def test_rows_show_direction_size_opcode_and_data():
    panel = MessagePanel(client_log(), title="alice")
    page = panel._table.value
    assert page.count("<tr class=") == 7
    assert "↑" in page and "↓" in page
    assert "<pre>{\n &quot;move&quot;: [\n  1,\n  2\n ]\n}</pre>" in page  # JSON pretty-printed
    assert "<code>00 ff</code>" in page  # binary as hex
    assert panel.state == "open"


def test_filters_and_regex():
    panel = MessagePanel(client_log())
    panel.filter = "Sent"
    assert rows(panel) == ["sent TEXT", "sent TEXT", "sent PING"]
    panel.filter = "Received"
    assert rows(panel) == ["received TEXT", "received BINARY", "received PONG"]
    panel.filter = "Control"
    assert rows(panel) == ["sent PING", "received PONG"]
    panel.filter = "All"
    panel.pattern = "mo+ve"
    assert rows(panel) == ["sent TEXT"]
    panel.pattern = "(unclosed"
    assert len(rows(panel)) == 7 and "not a valid regex" in panel._notice.value


def test_the_filter_buttons_drive_the_view():
    panel = MessagePanel(client_log())
    panel._filter.value = "Control"
    assert panel.filter == "Control" and panel._table.value.count("<tr class=") == 2


def test_badge_follows_the_connection():
    log = TrafficLog()
    panel = MessagePanel(log)
    assert panel.state == "connecting"
    log.add("event", "OPEN")
    assert panel.state == "open"
    log.add("sent", "CLOSE", code=1000, info="bye", size=5)
    assert panel.state == "closing"
    log.add("event", "CLOSED", code=1000, info="bye")
    panel._throttle.flush()
    assert panel.state == "closed" and "closed · 1000 bye" in panel._badge.value
    refused = TrafficLog()
    refused.add("event", "REJECTED", code=403, info="Forbidden")
    assert MessagePanel(refused).state == "refused"


def test_server_panel_counts_open_connections():
    log = TrafficLog()
    panel = MessagePanel(log)
    for conn in (1, 2, 3):
        log.add("event", "OPEN", conn=conn)
    log.add("event", "CLOSED", conn=2, code=1000)
    panel._throttle.flush()
    assert panel.state == "listening" and "2 open" in panel._badge.value
    assert "<th>conn</th>" in panel._table.value


def test_pause_clear_and_export(tmp_path):
    log = client_log()
    panel = MessagePanel(log)
    panel.paused = True
    before = panel._table.value
    log.add("received", "TEXT", data="while paused", size=12)
    panel._throttle.flush()
    assert panel._table.value == before  # the view froze...
    panel.paused = False
    assert "while paused" in panel._table.value  # ...and caught up
    panel.clear()
    assert panel.visible() == [] and "no messages yet" in panel._table.value
    log.add("received", "TEXT", data="after clear", size=11)
    assert rows(panel) == ["received TEXT"]
    path = panel.export(tmp_path / "log.json")
    exported = json.loads(path.read_text())
    assert len(exported) == 9 and exported[5]["data"] == "31323334" and exported[5]["data_encoding"] == "hex"
    assert "saved 9 records" in panel._notice.value


def test_memory_stays_bounded():
    log = TrafficLog(maxlen=100_000)
    panel = MessagePanel(log, keep=50, max_rows=10)
    for i in range(1000):
        log.add("received", "TEXT", data=str(i), size=len(str(i)))
    panel._throttle.flush()
    assert len(panel.records) == 50 and panel.dropped == 950
    assert panel._table.value.count("<tr class=") == 10
    assert "990 earlier rows not drawn" in panel._table.value


def test_updates_are_coalesced():
    log = TrafficLog()
    panel = MessagePanel(log, max_rate=20)
    started = time.monotonic()
    base = panel.updates
    while time.monotonic() - started < 0.5:
        log.add("received", "TEXT", data="x", size=1)
    time.sleep(0.1)
    elapsed = time.monotonic() - started
    redraws = panel.updates - base
    assert len(panel.records) > 1000
    assert redraws <= elapsed * 20 + 2, (redraws, elapsed)
    assert panel.visible()[-1] is log.records[-1]


def test_throttle_redraws_at_once_after_a_quiet_spell():
    calls = []
    throttle = Throttle(lambda: calls.append(time.monotonic()), max_rate=20)
    throttle.poke()
    assert len(calls) == 1
    throttle.poke()
    throttle.poke()
    assert len(calls) == 1  # merged into one scheduled redraw
    time.sleep(0.12)
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.045


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [("hi", "text", "hi"), ('{"a": 1}', "JSON", '{"a": 1}'), ("48 65 6c", "hex bytes", b"Hel")],
)
def test_parse_outgoing(text, kind, expected):
    assert parse_outgoing(text, kind) == expected


@pytest.mark.parametrize(("text", "kind", "error"), [("{", "JSON", "not valid JSON"), ("zz", "hex bytes", "not hex")])
def test_parse_outgoing_errors(text, kind, error):
    with pytest.raises(ValueError, match=error):
        parse_outgoing(text, kind)


def test_send_box_calls_back_and_reports_errors():
    sent = []
    panel = MessagePanel(TrafficLog(), on_send=sent.append)
    panel._input.value = "48 69"
    panel._kind.value = "hex bytes"
    panel._send_button.click()
    assert sent == [b"Hi"] and panel._input.value == ""
    panel._input.value = "not hex"
    panel._send_button.click()
    assert sent == [b"Hi"] and "not hex" in panel._notice.value
    panel._input.value = "48 69"  # kept, so the learner can fix it


def test_a_failing_callback_is_shown_not_raised():
    def broken(_message):
        raise ConnectionError("the server is gone")

    panel = MessagePanel(TrafficLog(), on_send=broken)
    panel._input.value = "hi"
    panel._send_button.click()
    assert "send failed" in panel._notice.value and "the server is gone" in panel._notice.value
    assert panel._connect.disabled  # a bare log has nothing to connect with


def test_refuses_what_it_cannot_show():
    with pytest.raises(TypeError, match="TrafficLog"):
        MessagePanel(object())


# --- with live connections -----------------------------------------------------------------


@pytest.fixture
def kit():
    wskit.stop_all()
    yield
    wskit.stop_all()


def test_panel_on_a_live_client_sends_and_shows_the_echo(kit):
    srv = wskit.EchoServer()
    client = wskit.connect(srv.url)
    panel = MessagePanel(client)
    panel._input.value = "typed in the panel"
    panel._send_button.click()
    client.log.wait_for(lambda r: r.direction == "received" and r.data == "typed in the panel")
    panel._throttle.flush()
    assert rows(panel)[-2:] == ["sent TEXT", "received TEXT"]
    panel._disconnect.click()
    client.log.wait_for(lambda r: r.opcode == "CLOSED")
    assert panel.state == "closed"
    panel._connect.click()
    assert panel.state == "open" and not client.closed


def test_handshake_view_of_a_live_client_and_of_a_forgery(kit):
    srv = wskit.EchoServer()
    view = HandshakeView(wskit.connect(srv.url))
    assert view.verdict == "valid" and view.mismatch == []
    assert "✓ matches" in view.value and "Sec-WebSocket-Key" in view.value
    request = hs.build_request("h:1", key="dGhlIHNhbXBsZSBub25jZQ==")
    forged = hs.Response(101, "Switching Protocols", hs.Headers(
        [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "AAAA")]))
    bad = HandshakeView(request=request, response=forged)
    assert bad.mismatch == ["Sec-WebSocket-Accept"] and "✗ differs" in bad.value
    assert "#ffebe9" in bad.value  # the wrong header is highlighted
    with pytest.raises(TypeError):
        HandshakeView()


def test_chat_room_shows_who_received_what(kit):
    chat = wskit.ChatServer()
    alice = wskit.connect(chat.url_for("alice"), name="alice")
    bob = wskit.connect(chat.url_for("bob"), name="bob")
    carol = wskit.connect(chat.url_for("carol", room="games"), name="carol")
    room = ChatRoom([alice, bob, carol])
    alice.send("hi lobby")
    bob.recv()
    alice.recv()
    carol.send("anyone for chess?")
    carol.recv()
    room._throttle.flush()
    assert room.delivery() == {
        1: {"from": "alice", "text": "hi lobby", "room": "lobby", "received_by": ["alice", "bob"]},
        2: {"from": "carol", "text": "anyone for chess?", "room": "games", "received_by": ["carol"]},
    }
    assert "anyone for chess?" in room._delivery.value
    room.close()


def test_times_restart_at_each_reconnect():
    log = TrafficLog()
    panel = MessagePanel(log)
    first = log.add("event", "OPEN")
    log.add("sent", "TEXT", data="a", size=1)
    second = log.add("event", "OPEN")
    log.add("sent", "TEXT", data="b", size=1)
    panel._throttle.flush()
    cells = [row.split("<td>")[1].split("</td>")[0] for row in panel._table.value.split("<tr class=")[1:]]
    assert all(not cell.startswith("-") for cell in cells), cells
    assert second.time > first.time


def test_a_handler_error_shows_in_the_panel_with_its_traceback(kit):
    async def buggy(ws):
        await ws.recv()
        raise KeyError("no such room")

    srv = wskit.Server(buggy)
    panel = MessagePanel(srv)
    client = wskit.connect(srv.url)
    client.send("join")
    srv.log.wait_for(lambda r: r.opcode == "ERROR")
    panel._throttle.flush()
    assert "tr class='error'" in panel._table.value
    assert "Traceback" in panel._table.value and "KeyError" in panel._table.value
