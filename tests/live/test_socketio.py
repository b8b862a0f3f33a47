"""wskit's Socket.IO server and client: events, rooms, acks, namespaces, auth, upgrade, reconnection."""

from __future__ import annotations

import threading

import pytest

import wskit


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
