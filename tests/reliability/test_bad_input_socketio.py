"""The bad-input catalogue, Socket.IO side: hostile Engine.IO and Socket.IO input to a live SocketIOServer.

Each case gets an answer (an HTTP status, a refusal in the log, a closed connection) within a bounded time and
holds no unbounded memory; a bystander client keeps talking throughout. (The WebSocket catalogue is
``test_bad_input.py``; the handshake-size cases are ``test_hostile_log.py``.)
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import wskit

pytestmark = pytest.mark.usefixtures("clean_kit")

LIMIT = 100_000


@pytest.fixture
def server():
    srv = wskit.SocketIOServer(max_http_buffer_size=LIMIT)
    srv.on("echo", lambda sid, data: data)
    srv.on("upload", lambda sid, *files: len(files))
    bystander = wskit.SocketIOClient(srv.url, name="bystander")
    yield srv
    assert bystander.call("echo", "still talking") == "still talking"


def polling_sid(srv) -> str:
    opened = urllib.request.urlopen(f"{srv.url}/socket.io/?EIO=4&transport=polling", timeout=5).read().decode()
    return json.loads(opened[1:])["sid"]


def post(srv, query: str, body: bytes, length: int | None = None) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(f"POST /socket.io/?{query} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                     f"Content-Length: {len(body) if length is None else length}\r\n\r\n".encode())
        with contextlib.suppress(OSError):  # answered and closed before the body was read: fine
            sock.sendall(body)
        return sock.recv(4096)


def test_a_post_over_the_size_limit_gets_413(server):
    answer = post(server, f"EIO=4&transport=polling&sid={polling_sid(server)}", b"4" + b"x" * (2 * LIMIT))
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_post_announcing_a_huge_body_gets_413_before_sending_it(server):
    answer = post(server, f"EIO=4&transport=polling&sid={polling_sid(server)}", b"", length=10**12)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_post_for_an_unknown_session_gets_400(server):
    assert post(server, "EIO=4&transport=polling&sid=nobody", b"40").startswith(b"HTTP/1.1 400")


def test_a_packet_announcing_ten_million_attachments_is_refused(server):
    with connect(server.ws_url) as ws:
        ws.recv()
        ws.send("40")
        ws.recv()
        ws.send('459999999-["upload",{"_placeholder":true,"num":0}]')
        assert "binary attachments" in server.log.wait_for(lambda r: "binary attachments" in r.info).info
    assert server.sio._binary_packet == {}


@pytest.mark.parametrize(
    "packet",
    ["", "4", "42", "42[", '42{"not":"a list"}', "4" + "9" * 200 + "[]", "9nonsense", "40/nowhere,", "41", "44"],
    ids=repr,
)
def test_malformed_socketio_packets_leave_the_server_serving(server, packet):
    with connect(server.ws_url, open_timeout=5, close_timeout=2) as ws:
        ws.recv()
        ws.send("40")
        ws.recv()
        ws.send(packet)
        try:  # the server answers the next good packet, or drops this connection (maybe before the packet is
            ws.send('421["echo","after"]')  # sent: the send is refused, seen in a run on a busy machine): never hangs
            answer = ws.recv(timeout=3)
        except Exception as exc:
            answer = type(exc).__name__
    if packet == "41":  # a DISCONNECT of "/": the client left the namespace, so its echo goes unanswered
        assert answer == "TimeoutError"
    else:
        assert answer in ('431["after"]', "ConnectionClosedOK", "ConnectionClosedError") or answer.startswith("4")


def test_a_client_that_stops_reading_is_dropped_at_the_queue_bound_and_nothing_else_is():
    srv = wskit.SocketIOServer(max_queue_bytes=1_000_000)
    srv.on("echo", lambda sid, data: data)
    gone = []
    srv.on("disconnect", lambda sid, *reason: gone.append(sid))
    bystander = wskit.SocketIOClient(srv.url, name="bystander", transports=["websocket"])
    # websockets' client stops reading the socket once max_queue messages wait unread: this one never reads
    # (and takes no compression: deflate would shrink the test's 40 MB of "x" to almost nothing on the wire)
    with connect(srv.ws_url, max_queue=1, compression=None) as deaf:
        deaf.recv()  # Engine.IO open
        deaf.send("40")
        sid = json.loads(deaf.recv()[2:])["sid"]
        chunk = "x" * 100_000
        for _ in range(400):  # 40 MB for a client that reads nothing: far over the bound, and the TCP buffers
            srv.emit("news", chunk, to=sid)
            if sid in gone:
                break
        error = srv.log.wait_for(lambda r: "did not take its packets" in r.info, timeout=5)
        assert "max_queue_bytes=1,000,000" in error.info
        deadline = time.monotonic() + 5
        while sid not in gone and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sid in gone  # the session ended: the disconnect handler ran
        assert all(s.queue.held <= 1_000_000 for s in srv.sio.eio.sockets.values())
        with pytest.raises(ConnectionClosed):  # and its connection was cut (what was in flight comes first)
            while True:
                deaf.recv(timeout=5)
    assert bystander.call("echo", "still talking") == "still talking"


def test_refused_and_repeated_upgrades_leave_no_connection_behind(server):
    sid = polling_sid(server)
    post(server, f"EIO=4&transport=polling&sid={sid}", b"1")  # the client closes its session
    for _ in range(20):  # then asks to upgrade it, again and again: each is refused
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 400")
        assert sid not in server._upgrades  # (the bystander's own upgrade is there: it lasts as its WebSocket)
    assert len(server._upgrades) == 1
