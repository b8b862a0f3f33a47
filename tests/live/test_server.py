"""wskit.live servers: start, serve, refuse, replace, stop."""

from __future__ import annotations

import asyncio
import threading
import time
import warnings

import pytest
import websockets

import wskit
from wskit.codec import handshake as hs

from .helpers import open_fds, refuses


def test_echo_server_is_ready_when_the_constructor_returns():
    srv = wskit.EchoServer()
    assert srv.running and srv.port > 0
    assert srv.url == f"ws://127.0.0.1:{srv.port}/"
    with wskit.connect(srv.url) as c:  # no sleep, no retry
        c.send("hello")
        assert c.recv() == "hello"
        c.send(b"\x00\xff")
        assert c.recv() == b"\x00\xff"
    srv.stop()
    assert not srv.running and refuses(srv.port)
    srv.stop()  # twice is fine


def test_server_binds_to_loopback_by_default():
    srv = wskit.EchoServer()
    assert srv._server.sockets[0].getsockname()[0] == "127.0.0.1"


def test_server_log_records_each_message_and_event():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send("one")
    c.recv()
    c.close()
    srv.log.wait_for(lambda r: r.opcode == "CLOSED")
    kinds = [(r.direction, r.opcode) for r in srv.log]
    assert kinds == [
        ("event", "OPEN"),
        ("received", "TEXT"),
        ("sent", "TEXT"),
        ("received", "CLOSE"),
        ("sent", "CLOSE"),
        ("event", "CLOSED"),
    ]
    received = srv.log.messages("received")[0]
    assert (received.data, received.size, received.conn) == ("one", 3, 1)
    closed = srv.log[-1]
    assert closed.code == 1000
    [handshake] = srv.log.handshakes
    assert handshake.accepted and handshake.request.key is not None
    assert handshake.response.headers.get("Sec-WebSocket-Accept") == hs.accept_key(handshake.request.key)


def test_ping_is_logged_before_its_pong():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    rtt = c.ping(b"abc")
    assert 0 < rtt < 1
    srv.log.wait_for(lambda r: r.opcode == "PONG")
    order = [(r.direction, r.opcode, r.data) for r in srv.log if r.is_control]
    assert order[:2] == [("received", "PING", b"abc"), ("sent", "PONG", b"abc")]


def test_a_fragmented_message_is_one_record():
    async def fragments(ws):
        await ws.send(["Sure, ", "let's ", "start"])  # three frames, one message

    srv = wskit.Server(fragments)
    c = wskit.connect(srv.url)
    assert c.recv() == "Sure, let's start"
    [record] = c.log.messages("received")
    # websockets ends an iterable with an empty final frame: 3 + 1 on the wire.
    assert (record.size, record.info) == (17, "4 frames")


@pytest.mark.parametrize(
    ("mutate", "status", "needle"),
    [
        (lambda r: r.without_header("Sec-WebSocket-Key"), 400, b"Sec-WebSocket-Key"),
        (lambda r: r.with_header("Sec-WebSocket-Version", "8"), 426, b"13"),
        (lambda r: r.with_header("Origin", "https://evil.example"), 403, b"Origin"),
        (lambda r: r.without_header("Upgrade"), 426, b"Upgrade"),
    ],
)
def test_bad_handshakes_get_the_rfc_answer(mutate, status, needle):
    srv = wskit.EchoServer(origins=["https://friend.example"])
    good = hs.build_request(f"127.0.0.1:{srv.port}", origin="https://friend.example")
    with wskit.RawSocket(srv.url) as raw:
        response = raw.send_request(mutate(good))
    assert response.status == status
    assert needle in response.body
    if status == 426 and b"13" in needle:
        assert response.headers.get("Sec-WebSocket-Version") == "13"
        assert response.headers.get("Upgrade") == "websocket"  # RFC 9110 §15.5.22: a 426 names the protocol
    rejected = srv.log.wait_for(lambda r: r.opcode == "REJECTED")
    assert rejected.code == status
    assert srv.log.handshakes[-1].response.status == status


def test_a_bad_handshake_does_not_disturb_another_client():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send("before")
    assert c.recv() == "before"
    with wskit.RawSocket(srv.url) as raw:  # HTTP, but not an Upgrade
        raw.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv_all().startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    with wskit.RawSocket(srv.url) as raw:  # not HTTP at all: websockets hangs up
        raw.send(b"\x16\x03\x01 a TLS hello, say\r\n\r\n")
        assert raw.recv_all() == b""
    c.send("after")
    assert c.recv() == "after"
    with wskit.connect(srv.url) as c2:  # and the server still accepts
        c2.send("new")
        assert c2.recv() == "new"


def test_a_refused_client_gets_a_clear_error():
    srv = wskit.EchoServer(origins=["https://friend.example"])
    with pytest.raises(wskit.HandshakeRefused, match=r"403 Forbidden.*Origin") as info:
        wskit.connect(srv.url, origin="https://evil.example")
    assert info.value.status == 403
    assert info.value.response.status == 403
    assert wskit.live_objects() == [srv]  # the failed client is not left registered


def test_a_handler_error_is_logged_and_the_server_survives():
    async def buggy(ws):
        message = await ws.recv()
        raise ValueError(f"cannot handle {message!r}")

    srv = wskit.Server(buggy)
    c = wskit.connect(srv.url)
    c.send("boom")
    with pytest.raises(websockets.ConnectionClosedError):
        c.recv()
    assert c.close_code == 1011
    error = srv.log.wait_for(lambda r: r.opcode == "ERROR")
    assert "Traceback" in error.info and "cannot handle 'boom'" in error.info
    c2 = wskit.connect(srv.url)
    c2.send("again")
    srv.log.wait_for(lambda r: r.opcode == "ERROR" and r.conn == 2)


def test_handler_must_be_async():
    def not_async(ws):
        pass

    with pytest.raises(TypeError, match="async def"):
        wskit.Server(not_async)
    assert wskit.live_objects() == []


def test_same_name_replaces_the_running_server():
    first = wskit.EchoServer(name="friend")
    c = wskit.connect(first.url)
    second = wskit.EchoServer(name="friend")
    assert not first.running and refuses(first.port)
    assert second.running
    assert wskit.live_objects() == [c, second]
    with pytest.raises(websockets.ConnectionClosed):
        c.recv(timeout=2)
    assert c.close_code == 1001  # going away


def test_a_rerun_cell_replaces_its_server():
    """ipykernel names each cell's code after a hash of its source."""
    cell = "srv = wskit.EchoServer()\n"
    code = compile(cell, "/tmp/ipykernel_4242/1234567.py", "exec")
    namespace = {"wskit": wskit}
    exec(code, namespace)
    first = namespace["srv"]
    exec(code, namespace)
    second = namespace["srv"]
    assert first is not second and not first.running and second.running
    assert first.name == second.name == "srv"  # named after the variable it is assigned to
    assert wskit.live_objects() == [second]
    # Outside a cell, or inside a function, servers never replace each other.
    a, b = wskit.EchoServer(), wskit.EchoServer()
    assert a.running and b.running and a.name != b.name


def test_stop_all_leaves_no_thread_socket_or_descriptor():
    wskit.stop_all()
    threads, fds = threading.active_count(), open_fds()
    servers = [wskit.EchoServer() for _ in range(3)]
    clients = [wskit.connect(s.url) for s in servers]
    raw = wskit.RawSocket(servers[0].url)
    for c in clients:
        c.send("x")
        c.recv()
    assert any(t.name == "wskit-loop" for t in threading.enumerate())
    wskit.stop_all()
    assert wskit.live_objects() == []
    assert threading.active_count() == threads
    assert open_fds() == fds
    assert all(refuses(s.port) for s in servers)
    assert all(c.closed for c in clients) and raw.sock is None
    # ...and the kit starts again afterwards.
    with wskit.EchoServer() as srv, wskit.connect(srv.url) as c:
        c.send("again")
        assert c.recv() == "again"


def test_context_managers_stop_what_they_started():
    with wskit.EchoServer() as srv:
        port = srv.port
    assert refuses(port)
    assert wskit.live_objects() == []


def test_repr_tells_state():
    srv = wskit.EchoServer(name="demo")
    assert repr(srv) == f"<EchoServer 'demo' ws://127.0.0.1:{srv.port}/ running, 0 open>"
    srv.stop()
    assert repr(srv) == "<EchoServer 'demo' stopped>"


def test_token_at_the_handshake():
    srv = wskit.EchoServer(token="s3cret")
    with pytest.raises(wskit.HandshakeRefused) as missing:
        wskit.connect(srv.url)
    assert missing.value.status == 401 and "token is needed" in str(missing.value)
    assert missing.value.response.headers.get("WWW-Authenticate") == 'Bearer realm="wskit"'
    with pytest.raises(wskit.HandshakeRefused) as wrong:
        wskit.connect(srv.url, headers={"Authorization": "Bearer guess"})
    assert wrong.value.status == 403 and "not valid" in str(wrong.value)
    with wskit.connect(srv.url, headers={"Authorization": "Bearer s3cret"}) as by_header:
        by_header.send("in")
        assert by_header.recv() == "in"
    with wskit.connect(srv.url + "?token=s3cret") as by_query:  # what a browser can do
        by_query.send("in")
        assert by_query.recv() == "in"


def test_wss_with_a_local_certificate_authority():
    import ssl

    from wskit.live.tls import local_tls

    tls = local_tls()
    srv = wskit.EchoServer(ssl=tls.server)
    assert srv.url.startswith("wss://127.0.0.1:")
    with wskit.connect(srv.url, ssl=tls.client) as client:
        client.send("secret note")
        assert client.recv() == "secret note"
        peer = client.connection.transport.get_extra_info("ssl_object")
        assert peer.version().startswith("TLSv1.") and peer.getpeercert()["subjectAltName"][0][1] in ("127.0.0.1",
                                                                                                      "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        wskit.connect(srv.url)  # the system's authorities do not know ours
    assert "BEGIN CERTIFICATE" in tls.ca_pem and "BEGIN CERTIFICATE" in tls.cert_pem


def test_the_local_certificate_and_its_key_serve_from_files(tmp_path):
    """What a server that takes files gets: cert_pem and key_pem, loaded afresh, serve wss:// the client trusts."""
    import ssl

    from wskit.live.tls import local_tls

    tls = local_tls()
    (tmp_path / "cert.pem").write_text(tls.cert_pem)
    (tmp_path / "key.pem").write_text(tls.key_pem)
    from_files = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    from_files.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    srv = wskit.EchoServer(ssl=from_files)
    with wskit.connect(srv.url, ssl=tls.client) as client:
        client.send("from files")
        assert client.recv() == "from files"


# --- a loop nobody can kill (issue 20) -----------------------------------------------------------


@pytest.mark.parametrize("exception", [SystemExit, KeyboardInterrupt])
def test_a_handler_raising_systemexit_or_keyboardinterrupt_closes_only_its_connection(exception):
    async def fatal(ws):
        await ws.recv()
        raise exception("from a handler")

    srv = wskit.Server(fatal)
    bystander_srv = wskit.EchoServer()
    bystander = wskit.connect(bystander_srv.url)
    neighbour = wskit.connect(srv.url)  # another connection on the same server
    c = wskit.connect(srv.url)
    c.send("boom")
    with pytest.raises(websockets.ConnectionClosedError):
        c.recv()
    assert c.close_code == 1011
    error = srv.log.wait_for(lambda r: r.opcode == "ERROR")
    assert exception.__name__ in error.info
    bystander.send("still here")
    assert bystander.recv() == "still here"
    assert not neighbour.closed and srv.running
    assert [t for t in threading.enumerate() if t.name == "wskit-loop"]
    wskit.stop_all()
    assert wskit.live_objects() == [] and refuses(srv.port)


def test_the_loop_thread_survives_a_callback_raising_systemexit(capfd):
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)

    def fatal():
        raise SystemExit("from a callback")

    wskit.live.loop.get_loop().call_soon_threadsafe(fatal)
    c.send("after")
    assert c.recv() == "after"
    assert "survived SystemExit" in capfd.readouterr().err


def test_a_handler_that_blocks_the_loop_is_named():
    async def sleepy_handler(ws):
        async for message in ws:
            time.sleep(0.8)  # the mistake: blocks every server and client on the loop
            await ws.send(message)

    srv = wskit.Server(sleepy_handler)
    c = wskit.connect(srv.url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c.send("hi")
        assert c.recv() == "hi"
        record = srv.log.wait_for(lambda r: r.opcode == "ERROR", timeout=3)
    assert "sleepy_handler()" in record.info and "test_server.py:" in record.info
    named = [w for w in caught if "sleepy_handler()" in str(w.message)]
    assert named and named[0].filename.endswith("test_server.py")


def _flood(size=2**20):
    async def handler(ws):
        data = b"x" * size
        while True:
            await ws.send(data)
    return handler


def test_a_peer_that_never_reads_is_dropped_after_the_write_timeout():
    srv = wskit.Server(_flood(), write_timeout=1.0)
    raw = wskit.RawSocket(srv.url)
    raw.handshake()  # then never read
    record = srv.log.wait_for(lambda r: r.opcode == "ERROR" and "write timeout" in r.info, timeout=15)
    assert "1 s" in record.info
    deadline = time.monotonic() + 5
    while srv.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.connections == 0
    assert wskit.Server(_flood()).write_timeout == 30.0  # the documented default


def test_stop_does_not_raise_when_a_peer_stopped_reading():
    srv = wskit.Server(_flood(), write_timeout=None)
    raw = wskit.RawSocket(srv.url)
    raw.handshake()
    deadline = time.monotonic() + 5
    while not srv._server.connections or not next(iter(srv._server.connections)).transport.get_write_buffer_size():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        srv.stop(timeout=1.0)  # websockets alone waits close_timeout (10 s), wskit used to raise TimeoutError
    assert time.monotonic() - started < 5
    assert refuses(srv.port) and srv not in wskit.live_objects()
    assert any("did not close" in str(w.message) for w in caught)


def test_every_server_formats_its_url_the_same_way():
    for url in (wskit.EchoServer().url, wskit.TCPEchoServer().url, wskit.PushServer().http_url):
        _scheme, rest = url.split("://")
        host, port = rest.rstrip("/").rsplit(":", 1)
        assert url.endswith("/") and host == "127.0.0.1" and port.isdigit()


def test_a_blocking_call_inside_a_handler_says_what_to_type():
    errors = []
    peer = wskit.EchoServer()
    other = wskit.connect(peer.url)

    async def handler(ws):
        await ws.recv()
        try:
            other.send("from inside")
        except RuntimeError as exc:
            errors.append(str(exc))
        await ws.send("done")

    srv = wskit.Server(handler)
    with wskit.connect(srv.url) as c:
        c.send("go")
        assert c.recv() == "done"
    assert "await other.connection.send(...)" in errors[0]


def test_stop_all_then_an_old_client_raises_and_starts_nothing():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    wskit.stop_all()
    for call in (lambda: c.send("x"), lambda: c.recv(), lambda: c.ping()):
        with pytest.raises(wskit.LiveError, match=r"stopped by wskit.stop_all\(\); create a new one"):
            call()
    c.close()  # closing is still fine
    srv.stop()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("wskit")]
    with pytest.raises(wskit.LiveError):
        wskit.live.loop.run(asyncio.sleep(0))
    assert not [t.name for t in threading.enumerate() if t.name.startswith("wskit")]
    fresh = wskit.EchoServer()  # something made on purpose starts the loop again
    with wskit.connect(fresh.url) as c2:
        c2.send("new")
        assert c2.recv() == "new"


def test_a_connections_handshake_headers_are_compacted_and_keep_their_content():
    from websockets.datastructures import Headers

    from wskit.live import _headers

    raw = [("Host", "127.0.0.1:1"), ("Upgrade", "websocket"), ("X-Twice", "a"), ("x-twice", "b"),
           ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
    headers, other = Headers(raw), Headers(raw)
    _headers.compact_headers(headers)
    _headers.compact_headers(other)
    assert list(headers.raw_items()) == raw and dict(headers._dict) == dict(Headers(raw)._dict)
    assert headers.get_all("X-TWICE") == ["a", "b"] and headers["upgrade"] == "websocket"
    # one shared copy of names and of the common values, not one per connection
    assert headers._list[1] is other._list[1] and next(iter(headers._dict)) is next(iter(other._dict))
    headers["X-Late"] = "added"  # still an ordinary Headers: changing one leaves the other alone
    assert "X-Late" not in other and other.get_all("x-twice") == ["a", "b"]

    seen = []

    async def keep(ws):
        seen.append(ws)
        await ws.recv()
        await ws.send("kept")
        await ws.wait_closed()

    srv = wskit.Server(keep)
    first, second = wskit.connect(srv.url), wskit.connect(srv.url)
    first.send("?"), second.send("?")
    assert first.recv() == second.recv() == "kept"
    a, b = (ws.request.headers for ws in seen)
    assert a["Host"] == f"127.0.0.1:{srv.port}" and a._list[0] is b._list[0]  # the live server compacts them
    assert seen[0].response.headers["Upgrade"] == "websocket"


def test_the_shared_header_values_are_bounded():
    from websockets.datastructures import Headers

    from wskit.live import _headers

    for n in range(_headers.SHARED_MAX + 50):  # a peer sending a new User-Agent each time
        headers = Headers([("User-Agent", f"agent {n}")])
        _headers.compact_headers(headers)
        assert headers["user-agent"] == f"agent {n}"
    assert len(_headers._shared) <= _headers.SHARED_MAX
