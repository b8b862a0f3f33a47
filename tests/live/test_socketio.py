"""wskit's Socket.IO server and client: events, rooms, acks, namespaces, auth, upgrade, reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import threading
import time
import urllib.request
import weakref

import pytest
import socketio

import wskit
from wskit.codec import frames as fr
from wskit.live import sio as sio_module


@pytest.fixture
def chat():
    srv = wskit.SocketIOServer()

    @srv.on("connect")
    async def connect(sid, environ, auth):
        if not auth or auth.get("token") != "friend":
            raise wskit.SocketIORefused("a friend's token is needed")

    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
        return f"joined {room}"

    @srv.on("say")
    async def say(sid, room, text):
        await srv.sio.emit("said", {"room": room, "text": text}, room=room, skip_sid=sid)

    @srv.on("echo")
    async def echo(sid, *args):
        return list(args)

    return srv


def client(srv, **options):
    return wskit.SocketIOClient(srv.url, auth={"token": "friend"}, **options)


def test_ack_and_the_packets_on_the_wire(chat):
    alice = client(chat)
    assert alice.connected and alice.transport == "websocket"  # upgraded from long polling
    assert alice.call("echo", "hi", 2) == ["hi", 2]
    sent = [r.data for r in alice.log.messages("sent")]
    received = [r.data for r in alice.log.messages("received")]
    assert '421["echo","hi",2]' in sent and '431[["hi",2]]' in received
    notes = [r.info for r in alice.log if r.opcode == "NOTE"]
    assert any("WebSocket upgrade was successful" in note for note in notes)
    server_side = [r.data for r in chat.log.messages("received")]
    assert '421["echo","hi",2]' in server_side


def test_packet_lines_reach_the_log_without_a_log_record_and_a_failing_tap_breaks_nothing(chat, monkeypatch, capsys):
    """Engine.IO's packet lines go straight to the traffic log (no LogRecord: the fast path of every packet);
    other lines still take logging's usual path; a tap that fails is reported as logging reports a handler's
    error, and the call still gets its answer."""
    alice = client(chat)
    made: list[str] = []
    make_record = logging.Logger.makeRecord

    def counted(self, name, level, fn, lno, msg, *args, **kwargs):
        made.append(str(msg))
        return make_record(self, name, level, fn, lno, msg, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "makeRecord", counted)
    before = len(alice.log.messages("sent")), len(chat.log.messages("received"))
    for i in range(5):
        assert alice.call("echo", i) == [i]
    assert (len(alice.log.messages("sent")), len(chat.log.messages("received"))) == (before[0] + 5, before[1] + 5)
    assert [m for m in made if "packet" in m] == []

    alice._logger.info("a line that is not a packet %s", "line")  # the usual way, to the same log
    assert "a line that is not a packet line" in [r.info for r in alice.log if r.opcode == "NOTE"]

    def broken(self, message, args):
        raise ValueError("the tap broke")

    monkeypatch.setattr(sio_module._EngineIOTap, "packet", broken)
    assert alice.call("echo", "still") == ["still"]
    assert "ValueError: the tap broke" in capsys.readouterr().err
    monkeypatch.undo()

    logger = alice._logger
    alice.close()
    records = len(alice.log)  # the close's own packets and events are in
    logger.info("Sending packet %s data %s", "MESSAGE", "2late")
    assert logger.handlers == [] and len(alice.log) == records  # closed: the tap is gone, and it feeds nothing


def test_a_handler_or_filter_added_to_engineio_logger_sees_the_packet_lines(chat):
    """The short cut is the kit's own set-up only: a handler someone adds sees every packet line, and a filter
    on the logger stops them before the traffic log, as logging does."""
    alice = client(chat)
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    extra = Collect()
    alice._logger.addHandler(extra)
    try:
        sent = len(alice.log.messages("sent"))
        assert alice.call("echo", "watched") == ["watched"]
        assert any(line.startswith("Sending packet MESSAGE data 2") for line in seen)
        assert len(alice.log.messages("sent")) == sent + 1  # and the traffic log still has it
    finally:
        alice._logger.removeHandler(extra)
    alice._logger.addFilter(lambda record: "packet" not in record.msg)
    sent = len(alice.log.messages("sent"))
    assert alice.call("echo", "filtered") == ["filtered"]
    assert len(alice.log.messages("sent")) == sent


def test_a_binary_attachment_is_logged_as_python_engineio_reports_it(chat):
    """python-engineio's packet line for a binary message says "<binary>" and nothing of its bytes: the log says
    so, instead of a 9-byte text message "4<binary>" that never travelled."""
    alice = client(chat)
    assert alice.call("echo", b"\x00\x01\x02") == [b"\x00\x01\x02"]
    for log, direction in ((alice.log, "sent"), (chat.log, "received")):
        binary = [r for r in log.messages(direction) if r.info == sio_module._BINARY_NOTE]
        assert len(binary) == 1 and binary[0].data is None and binary[0].opcode == "MESSAGE"
        assert not [r for r in log.messages(direction) if r.data == "4<binary>"]
    announcing = [r.data for r in alice.log.messages("sent") if r.data and r.data.startswith("451-")]
    assert announcing == ['451-1["echo",{"_placeholder":true,"num":0}]']  # one attachment, ack id 1


def test_rooms_and_everyone_but_the_sender(chat):
    alice, bob, carol = client(chat), client(chat), client(chat, transports=["websocket"])
    assert alice.call("join", "lobby") == "joined lobby"
    bob.call("join", "lobby")
    carol.call("join", "games")
    assert chat.rooms(alice.sid) == sorted(["lobby", alice.sid])
    alice.emit("say", "lobby", "hi lobby")
    assert bob.recv("said") == ("said", {"room": "lobby", "text": "hi lobby"})
    with pytest.raises(TimeoutError):
        carol.recv("said", timeout=0.3)  # another room
    with pytest.raises(TimeoutError):
        alice.recv("said", timeout=0.3)  # skip_sid: not back to the sender


def test_server_emits_to_one_client_and_calls_it(chat):
    alice, bob = client(chat), client(chat)
    bob.on("question", lambda text: f"bob says yes to {text!r}")
    chat.emit("private", "only for alice", to=alice.sid)
    assert alice.recv("private") == ("private", "only for alice")
    with pytest.raises(TimeoutError):
        bob.recv("private", timeout=0.3)
    assert chat.call("question", "lunch?", to=bob.sid) == "bob says yes to 'lunch?'"
    assert bob.recv("question") == ("question", "lunch?")  # handled and queued


def test_auth_refusal_is_a_clear_error(chat):
    with pytest.raises(wskit.SocketIORefused, match="a friend's token is needed"):
        wskit.SocketIOClient(chat.url, auth={"token": "stranger"})
    with pytest.raises(wskit.SocketIORefused):
        wskit.SocketIOClient(chat.url)
    refusal = chat.log.wait_for(lambda r: r.data is not None and str(r.data).startswith("44"))
    assert "a friend's token is needed" in refusal.data
    assert [o for o in wskit.live_objects() if isinstance(o, wskit.SocketIOClient)] == []


def test_namespaces(chat):
    @chat.on("stats", namespace="/admin")
    async def stats(sid):
        return {"clients": 1}

    admin = wskit.SocketIOClient(chat.url, namespaces=["/", "/admin"], auth={"token": "friend"})
    assert admin.call("stats", namespace="/admin") == {"clients": 1}
    assert any(str(r.data).startswith("42/admin,") for r in admin.log.messages("sent"))


def test_a_handler_error_is_logged_and_the_server_survives(chat):
    @chat.on("boom")
    async def boom(sid):
        raise ValueError("the handler broke")

    alice = client(chat)
    alice.emit("boom")
    error = chat.log.wait_for(lambda r: r.opcode == "ERROR")
    assert "the handler broke" in error.info and "Traceback" in error.info
    assert alice.call("echo", "still here") == ["still here"]


def test_reconnection_after_a_restart_and_back_in_the_room(chat):
    port = chat.port
    alice = client(chat)
    rejoined = []

    @alice.on("connect")
    def on_connect():
        rejoined.append(True)
        alice.sio.start_background_task(alice.sio.emit, "join", "lobby")

    alice.emit("join", "lobby")
    before = alice.connections
    chat.stop()
    again = wskit.SocketIOServer(port=port)

    back_in_the_room = threading.Event()

    @again.on("join")
    async def join(sid, room):
        await again.sio.enter_room(sid, room)
        back_in_the_room.set()

    alice.wait_connected(timeout=10, after=before)
    assert back_in_the_room.wait(5)
    assert alice.connections == before + 1
    assert rejoined and "lobby" in again.rooms(alice.sid)
    again.emit("news", "to the lobby", room="lobby")
    assert alice.recv("news") == ("news", "to the lobby")


# --- issue 17 and 20: bounded, collectable, one API ----------------------------------------------------------


def test_socketio_refused_is_a_live_error_and_keeps_its_bases():
    assert issubclass(wskit.SocketIORefused, wskit.LiveError)
    assert issubclass(wskit.SocketIORefused, ConnectionError)
    assert issubclass(wskit.SocketIORefused, socketio.exceptions.ConnectionRefusedError)


def test_many_servers_and_clients_leave_no_logger_and_their_logs_can_be_freed():
    gc.collect()
    loggers = set(logging.Logger.manager.loggerDict)
    handlers = len(logging._handlerList)  # type: ignore[attr-defined]
    logs = []
    for _ in range(10):
        srv = wskit.SocketIOServer()
        srv.on("echo", lambda sid, data: data)
        client = wskit.SocketIOClient(srv.url)
        for i in range(50):
            assert client.call("echo", i) == i
        logs += [weakref.ref(srv.log), weakref.ref(client.log)]
        client.close()
        srv.close()
    wskit.stop_all()
    del srv, client
    gc.collect()
    assert set(logging.Logger.manager.loggerDict) == loggers
    assert len(logging._handlerList) == handlers  # type: ignore[attr-defined]
    assert [ref for ref in logs if ref() is not None] == []


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_the_session_map_forgets_polling_sessions_that_expire():
    import aiohttp

    from wskit.live import loop

    srv = wskit.SocketIOServer(ping_interval=1, ping_timeout=1)
    count = 2_000  # twice the 1,024 past which the map tidies itself: a broken forget leaves about 1,000

    async def handshakes():
        async with aiohttp.ClientSession() as session:
            url = f"{srv.url}/socket.io/?EIO=4&transport=polling"

            async def some(n):
                for _ in range(n):
                    async with session.get(url) as response:
                        assert response.status == 200 and (await response.text()).startswith("0{")

            await asyncio.gather(*(some(count // 20) for _ in range(20)))

    started = time.monotonic()
    loop.run(handshakes(), timeout=180)
    mapped = srv.sessions
    deadline = time.monotonic() + 120
    # python-engineio expires them (no pong within ping_interval + ping_timeout), a slice at a time
    while len(srv.sio.eio.sockets) > 10 and time.monotonic() < deadline:
        time.sleep(0.5)
    alive = len(srv.sio.eio.sockets)
    print(f"{count} polling handshakes, then their expiry, in {time.monotonic() - started:.1f} s: {mapped} sessions "
          f"mapped; after the expiry {alive} in Engine.IO, {srv.sessions} in the map")
    assert mapped > count * 0.5 and alive <= 10
    assert srv.sessions <= alive + 10


def test_a_packet_announcing_too_many_attachments_is_refused():
    from websockets.sync.client import connect

    srv = wskit.SocketIOServer()
    srv.on("upload", lambda sid, *files: len(files))
    with connect(srv.ws_url) as ws:
        assert ws.recv().startswith("0{")
        ws.send("40")
        assert ws.recv().startswith("40{")
        ws.send('4519999999-["upload",{"_placeholder":true,"num":0}]')  # python-socketio alone would wait for them
        refused = srv.log.wait_for(lambda r: "binary attachments" in r.info)
        assert "at most 10" in refused.info
        for _ in range(200):
            ws.send(b"\0" * 10_000)
        ws.send('452-21["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        ws.send(b"one")
        ws.send(b"two")
        assert ws.recv() == "4321[2]"  # two attachments are fine
    assert srv.sio._binary_packet == {}


def test_an_engineio_post_over_the_size_limit_gets_413():
    srv = wskit.SocketIOServer(max_http_buffer_size=100_000)
    bystander = client_of(srv)
    opened = urllib.request.urlopen(f"{srv.url}/socket.io/?EIO=4&transport=polling", timeout=5).read().decode()
    sid = json.loads(opened[1:])["sid"]
    body = b"4" + b"x" * 200_000
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                     f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        with contextlib.suppress(OSError):  # the server may answer and close before reading it all
            sock.sendall(body)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert srv.log.wait_for(lambda r: r.opcode == "REJECTED").code == 413
    assert bystander.call("echo", "still here") == "still here"


def client_of(srv):
    srv.on("echo", lambda sid, data: data)
    return wskit.SocketIOClient(srv.url)


def test_a_client_of_one_namespace_only_counts_logs_and_has_a_sid():
    srv = wskit.SocketIOServer()

    @srv.on("connect", namespace="/admin")
    async def admin_connect(sid, environ, auth):
        if (auth or {}).get("role") != "admin":
            raise wskit.SocketIORefused("admins only")

    @srv.on("whoami", namespace="/admin")
    async def whoami(sid):
        return sid

    admin = wskit.SocketIOClient(srv.url, namespaces=["/admin"], auth={"role": "admin"})
    admin.wait_connected(timeout=5)
    assert admin.connections == 1 and admin.sid is not None
    assert admin.sids == {"/admin": admin.sid}
    assert admin.call("whoami") == admin.sid  # the first namespace is the default
    assert [r.info for r in admin.log if r.opcode == "OPEN"] == ["/admin over websocket"]
    with pytest.raises(wskit.SocketIORefused, match="namespace '/admin': admins only"):
        wskit.SocketIOClient(srv.url, namespaces=["/admin"], auth={"role": "guest"})
    both = wskit.SocketIOClient(srv.url, namespaces=["/", "/admin"], auth={"role": "admin"})
    assert set(both.sids) == {"/", "/admin"} and both.connections == 1


def test_the_server_methods_work_from_a_cell_and_from_a_handler():
    srv = wskit.SocketIOServer()

    @srv.on("join")
    async def join(sid, room):
        await srv.enter_room(sid, room)  # awaitable on the loop
        await srv.emit("joined", room, sid, room=room)  # several arguments, as on the client
        srv.emit("noted", room, to=sid)  # not awaited: still sent
        return await srv.call("confirm", room, to=sid)  # the client's acknowledgement

    alice = wskit.SocketIOClient(srv.url)
    alice.on("confirm", lambda room: f"yes, {room}")
    assert alice.call("join", "lobby") == "yes, lobby"
    assert alice.recv("joined") == ("joined", "lobby", alice.sid)
    assert alice.recv("noted") == ("noted", "lobby")
    assert srv.rooms(alice.sid) == sorted([alice.sid, "lobby"])
    srv.emit("news", "a", "b", room="lobby")  # the same signature from a cell
    assert alice.recv("news") == ("news", "a", "b")
    srv.leave_room(alice.sid, "lobby")
    assert srv.rooms(alice.sid) == [alice.sid]
    assert srv.call("confirm", "games", to=alice.sid) == "yes, games"
    alice.close()
    srv.close()
    assert not srv.running and wskit.live_objects() == []


def test_socketio_byte_counts_are_the_bytes_on_the_wire():
    srv = wskit.SocketIOServer()
    alice = client_of(srv)
    assert alice.transport == "websocket"
    alice.call("echo", "warm up")
    srv.log.wait_for(lambda r: r.direction == "sent" and r.data == '431["warm up"]')
    sent, received = alice.log.bytes_sent, alice.log.bytes_received
    start = len(alice.log)
    for _ in range(50):
        alice.call("echo", {"move": [3, 4]})
    records = alice.log.records[start:]

    def frame(record):  # one WebSocket frame per Engine.IO packet: the client masks, the server does not
        key = b"\0\0\0\0" if record.direction == "sent" else None
        return len(fr.encode(fr.Frame(fr.Opcode.TEXT, record.data.encode(), mask_key=key)))

    assert alice.log.bytes_sent - sent == sum(frame(r) for r in records if r.direction == "sent")
    assert alice.log.bytes_received - received == sum(frame(r) for r in records if r.direction == "received")
    srv.log.wait_for(lambda r: r.direction == "sent" and r.data == '4350[{"move":[3,4]}]')
    assert (srv.log.bytes_received, srv.log.bytes_sent) == (alice.log.bytes_sent, alice.log.bytes_received)


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_rooms_read_from_a_cell_under_join_and_leave_churn():
    """SocketIOServer.rooms is read on the loop (python-socketio's rooms live there): 20,000 reads here, each a
    round trip to the loop (a million would take minutes); zero errors."""
    srv = wskit.SocketIOServer()
    srv.on("move", lambda sid, room: None)

    @srv.on("hop")
    async def hop(sid, room):
        for old in srv.sio.rooms(sid):
            if old != sid:
                await srv.sio.leave_room(sid, old)
        await srv.sio.enter_room(sid, room)

    people = [client_of(srv) for _ in range(3)]
    stop = threading.Event()

    def churn():
        moves = 0
        while not stop.is_set():
            person = people[moves % 3]
            person.call("hop", f"room-{moves % 5}")
            moves += 1

    mover = threading.Thread(target=churn)
    mover.start()
    errors = reads = 0
    try:
        while reads < 20_000:
            try:
                srv.rooms(people[reads % 3].sid)
            except RuntimeError:
                errors += 1
            reads += 1
    finally:
        stop.set()
        mover.join(10)
    assert errors == 0


def test_a_server_that_never_answers_is_refused_clearly_in_bounded_time():
    """What a round-robin proxy does to long polling, reduced: the request is taken and never answered."""
    from wskit.live import loop

    held = []

    async def silent(reader, writer):  # reads the HTTP request and says nothing
        held.append(writer)
        await reader.read(65536)

    async def start():
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        return server, server.sockets[0].getsockname()[1]

    loop.get_loop()
    server, port = loop.run(start(), 5)
    try:
        started = time.monotonic()
        with pytest.raises(wskit.SocketIORefused, match=r"within 1 s.*sticky sessions"):
            wskit.SocketIOClient(f"http://127.0.0.1:{port}", timeout=1, reconnection=False)
        assert time.monotonic() - started < 4
        assert wskit.live_objects() == []
    finally:
        async def stop():
            for writer in held:
                writer.close()
            server.close()

        loop.run(stop(), 5)


def test_a_big_connect_packet_is_cut_before_it_is_redacted(monkeypatch):
    """A CONNECT packet's auth may carry a token, so its logged copy is redacted: redaction reads at most
    REDACT_WINDOW characters of it (a 1 MB packet cost the loop 0.4 s), and the token is hidden all the same."""
    import wskit.codec.redact as codec_redact

    seen = []
    real = codec_redact.redact
    monkeypatch.setattr(codec_redact, "redact", lambda text: seen.append(len(text)) or real(text))  # redact_bounded's
    srv = wskit.SocketIOServer(name="sio")
    pad = "p" * 200_000
    with wskit.SocketIOClient(srv.url, name="big", auth={"token": "s3cret" * 10_000, "pad": pad}) as client:
        assert client.sid
    connects = [r for r in srv.log if r.data and str(r.data).startswith("40")]
    assert connects and all("s3cret" not in r.data and len(r.data) <= srv.log.max_data for r in connects)
    assert connects[0].size > 260_000  # the size the packet had on the wire
    assert seen and max(seen) <= codec_redact.REDACT_WINDOW  # 16 KiB, not the whole packet


def test_recv_of_one_event_keeps_the_others_in_the_order_they_came():
    srv = wskit.SocketIOServer(name="sio")
    client = wskit.SocketIOClient(srv.url, name="c", transports=["websocket"])
    for event, n in (("a", 1), ("b", 1), ("a", 2), ("a", 3)):
        srv.emit(event, n, to=client.sid)
    assert client.recv("b") == ("b", 1)
    assert [client.recv() for _ in range(3)] == [("a", 1), ("a", 2), ("a", 3)]  # was a2, a3, a1


def test_events_no_one_reads_are_bounded_and_the_drop_is_reported(monkeypatch):
    from wskit.live import sio as sio_module

    monkeypatch.setattr(sio_module, "MAX_INBOX", 50)
    monkeypatch.setattr(sio_module, "MAX_INBOX_BYTES", 20_000)
    srv = wskit.SocketIOServer(name="sio")
    client = wskit.SocketIOClient(srv.url, name="c", transports=["websocket"])
    for n in range(60):  # past the count
        srv.emit("tick", n, to=client.sid)
    srv.emit("last", to=client.sid)
    assert client.recv("last") == ("last",)
    assert client.dropped == 11 and client.recv() == ("tick", 11)  # the oldest went
    assert any("dropped unread" in r.info for r in client.log if r.opcode == "ERROR")
    while True:
        try:
            client.recv(timeout=0.2)
        except TimeoutError:
            break
    for n in range(10):  # past the bytes: 10 events of about 4 KB
        srv.emit("big", "x" * 4000, n, to=client.sid)
    srv.emit("last", to=client.sid)
    assert client.recv("last") == ("last",)
    assert client.dropped == 11 + 6 and client.recv()[2] == 6


def test_recv_with_no_timeout_waits_until_the_event_comes():
    import threading

    srv = wskit.SocketIOServer(name="sio")
    client = wskit.SocketIOClient(srv.url, name="c", transports=["websocket"])
    threading.Timer(0.3, lambda: srv.emit("late", 1, to=client.sid)).start()
    assert client.recv("late", timeout=None) == ("late", 1)  # it raised TypeError (a deadline of None)
