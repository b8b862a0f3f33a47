"""Exercises of notebook 05: Socket.IO handlers driven by real clients, and packets decoded by hand."""

from __future__ import annotations

import asyncio
import collections
import inspect
import threading
from typing import Any

from ..codec import socketio as sp
from .core import Case, Exercise, Mismatch, expect, learner_traceback, register, run_cases

__all__: list[str] = []

HANDLER_TIMEOUT = 3.0


def _checked_server_class() -> type:
    """A SocketIOServer whose handlers are bounded in time and counted as they finish."""
    import wskit

    class CheckedServer(wskit.SocketIOServer):
        def __init__(self, **options: Any) -> None:
            self.finished: collections.Counter[str] = collections.Counter()
            self._changed = threading.Condition()
            super().__init__(**options)

        def on(self, event: str, handler: Any = None, *, namespace: str | None = None) -> Any:
            def register(function: Any) -> Any:
                super(CheckedServer, self).on(event, self._bounded(event, function), namespace=namespace)
                return function

            return register(handler) if handler is not None else register

        def _bounded(self, event: str, function: Any) -> Any:
            async def bounded(*args: Any) -> Any:
                try:
                    if inspect.iscoroutinefunction(function):
                        return await asyncio.wait_for(function(*args), HANDLER_TIMEOUT)
                    # a plain function: off the loop, so that it cannot block it
                    return await asyncio.wait_for(asyncio.to_thread(function, *args), HANDLER_TIMEOUT)
                except TimeoutError:
                    self.log.add("event", "ERROR", info=f"the {event!r} handler did not finish within "
                                 f"{HANDLER_TIMEOUT:g} s: it was cancelled")
                except Exception as error:
                    if any(k.__name__ == "ConnectionRefusedError" for k in type(error).__mro__):
                        raise  # a connect handler refusing a client: python-socketio's business
                    self.log.add("event", "ERROR", info=f"the {event!r} handler raised:\n{learner_traceback(error)}")
                finally:
                    with self._changed:
                        self.finished[event] += 1
                        self._changed.notify_all()
                return None  # the error is in the log, where the check reads it (no stray task exception)

            return bounded

        def wait_finished(self, event: str, count: int, timeout: float = HANDLER_TIMEOUT + 1) -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: self.finished[event] >= count, timeout)

        def errors(self) -> str:
            return "\n".join(r.info for r in self.log if r.opcode == "ERROR")

    return CheckedServer


def _client(url: str, **options: Any) -> Any:
    import wskit

    return wskit.SocketIOClient(url, transports=["websocket"], reconnection=False, timeout=3, **options)


def _next_event(client: Any, timeout: float = 3.0) -> tuple[Any, ...] | None:
    try:
        return client.recv(timeout=timeout)
    except TimeoutError:
        return None


# --- sio_login ------------------------------------------------------------------------------


def _check_sio_login(setup: Any) -> str:
    import wskit

    srv = _checked_server_class()(name="exercise-sio-login")
    try:
        setup(srv)
        for auth, label in ((None, "a client with no auth"), ({"name": ""}, "a client with an empty name"),
                            ({"id": 7}, "a client whose auth has no name")):
            try:
                stranger = _client(srv.url, auth=auth)
            except wskit.SocketIORefused:
                continue
            stranger.close()
            raise Mismatch(f"{label}: auth={auth!r}", "refused (the client gets SocketIORefused)", "connected",
                           "raise wskit.SocketIORefused('...') in the connect handler when auth has no name",
                           srv.errors())
        alice = _client(srv.url, auth={"name": "alice"})
        welcome = _next_event(alice)
        expect("alice connects with auth={'name': 'alice'}", ("welcome", "hello alice"), welcome,
               "nothing came: emit 'welcome' from the connect handler" if welcome is None else
               "emit('welcome', f'hello {name}', to=sid)", srv.errors())
        bob = _client(srv.url, auth={"name": "bob"})
        expect("bob connects after alice", ("welcome", "hello bob"), _next_event(bob),
               "each client gets its own name in the welcome", srv.errors())
        srv.emit("marker", "after bob's welcome")
        seen = _next_event(alice)
        if seen != ("marker", "after bob's welcome"):
            raise Mismatch("what alice receives when bob connects", "nothing (then the checker's marker)", seen,
                           "the welcome went to everyone: send it to the new client only, emit(..., to=sid)")
        for client in (alice, bob):
            client.close()
    finally:
        srv.stop()
    return "strangers refused; alice and bob each welcomed by name, and only themselves"


register(Exercise(
    name="sio_login",
    notebook="05",
    title="a Socket.IO connect handler that checks auth and welcomes one client",
    task="**Exercise 1: the door.** Write `setup_login(srv)`, which registers on the Socket.IO server `srv` a "
         "`connect` handler that refuses a client whose auth has no non-empty `\"name\"` "
         "(`raise wskit.SocketIORefused(...)`), and sends the new client, and only it, the event `\"welcome\"` "
         "with `\"hello <name>\"`. The check starts a server, calls your function on it, and drives it with real "
         "`wskit.SocketIOClient`s.",
    function="setup_login",
    solution='''def setup_login(srv):
    """Register on `srv` a connect handler: refuse clients with no auth name; welcome the others by name."""

    @srv.on("connect")
    async def connect(sid, environ, auth):
        name = (auth or {}).get("name")
        if not name:
            raise wskit.SocketIORefused("say who you are: auth={'name': ...}")
        await srv.sio.emit("welcome", f"hello {name}", to=sid)  # to this client only''',
    hints=(
        "@srv.on('connect') registers `async def connect(sid, environ, auth)`; auth is None when the client sent "
        "none, so use (auth or {}).get('name').",
        "Refuse with `raise wskit.SocketIORefused('reason')`; the client gets the reason.",
        "Inside a handler use the async API: `await srv.sio.emit('welcome', text, to=sid)`; without to=sid it goes "
        "to everyone.",
    ),
    checker=_check_sio_login,
    timeout=20.0,
))

# --- sio_rooms ------------------------------------------------------------------------------


def _check_sio_rooms(setup: Any) -> str:
    srv = _checked_server_class()(name="exercise-sio-rooms")
    try:
        setup(srv)
        alice, bob, carol = (_client(srv.url) for _ in range(3))
        try:
            ack = alice.call("join", "lobby", timeout=HANDLER_TIMEOUT + 1)
        except Exception as error:  # python-socketio's own TimeoutError is not the built-in one
            if "Timeout" not in type(error).__name__:
                raise
            raise Mismatch("alice.call('join', 'lobby')", "joined lobby", "no acknowledgement within "
                           f"{HANDLER_TIMEOUT + 1:g} s", "the join handler never returned (does it wait for "
                           "something?)", srv.errors()) from None
        if srv.errors():
            hung = "did not finish within" in srv.errors()
            raise Mismatch("alice.call('join', 'lobby')", "joined lobby", ack,
                           "the join handler never returned (does it wait for something that never comes?)" if hung
                           else "the join handler failed on the server (its traceback is below)", srv.errors())
        expect("alice.call('join', 'lobby')", "joined lobby", ack,
               "the acknowledgement is the handler's return value: return f'joined {room}'" if ack is None else "",
               srv.errors())
        bob.call("join", "lobby", timeout=HANDLER_TIMEOUT + 1)
        carol.call("join", "games", timeout=HANDLER_TIMEOUT + 1)
        alice.emit("say", "lobby", "who's up for lunch?")
        if not srv.wait_finished("say", 1):
            raise Mismatch("alice.emit('say', 'lobby', ...)", "the say handler finishes", "it did not",
                           "the say handler hangs", srv.errors())
        errors = srv.errors()
        if errors:
            raise Mismatch("alice.emit('say', 'lobby', \"who's up for lunch?\")", "no error on the server",
                           errors.strip().splitlines()[-1], "your say handler raised", errors)
        heard = _next_event(bob)
        expect("what bob (in the lobby) receives when alice says something there",
               ("said", {"room": "lobby", "text": "who's up for lunch?"}), heard,
               "emit 'said' with {'room': room, 'text': text} to the room" if heard is None else
               "the event is 'said' and its data {'room': room, 'text': text}")
        srv.emit("marker", "end")
        for who, client, mistake in (
            ("alice (the sender)", alice, "the broadcast includes the sender: skip_sid=sid"),
            ("carol (in another room)", carol, "the message went to everyone: emit(..., room=room)"),
        ):
            seen = _next_event(client)
            if seen != ("marker", "end"):
                raise Mismatch(f"what {who} receives", "nothing (then the checker's marker)", seen, mistake)
        for client in (alice, bob, carol):
            client.close()
    finally:
        srv.stop()
    return "join acknowledged; the room message reached bob, not the sender, not the other room"


# Declared like sio_login on purpose: both solutions teach the same move, handlers registered on `srv`.
register(Exercise(
    name="sio_rooms",
    notebook="05",
    title="Socket.IO rooms: an acknowledged join and a broadcast that skips the sender",
    task="**Exercise 2: rooms.** Write `setup_rooms(srv)`, which registers two event handlers: `\"join\"` "
         "`(sid, room)` puts the client in the room and acknowledges with `\"joined <room>\"`; `\"say\"` "
         "`(sid, room, text)` sends `\"said\"` with `{\"room\": room, \"text\": text}` to everyone in the room "
         "except the sender. The check drives it with three real clients in two rooms.",
    function="setup_rooms",
    solution='''def setup_rooms(srv):
    """Register on `srv`: "join" (enter the room, acknowledge) and "say" (to the room, not the sender)."""

    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
        return f"joined {room}"  # the return value is the acknowledgement

    @srv.on("say")
    async def say(sid, room, text):
        await srv.sio.emit("said", {"room": room, "text": text}, room=room, skip_sid=sid)''',
    hints=(
        "`await srv.sio.enter_room(sid, room)` puts a client in a room. What a handler returns is sent back as the "
        "acknowledgement of a client's call().",
        "`await srv.sio.emit(event, data, room=room)` sends to everyone in the room: the sender included, unless "
        "you add skip_sid=sid.",
    ),
    checker=_check_sio_rooms,
    timeout=20.0,
))

# --- decode_packet --------------------------------------------------------------------------

PACKETS = [
    "2",
    "3probe",
    '42["chat","hi"]',
    '421["join","lobby"]',
    '4312["ok",3]',
    '42/admin,["stats"]',
    '42/admin,7["stats",{"all":true}]',
    "40",
    '40{"sid":"wVdgxYkNGkJ1ArTtAAAB"}',
    '44{"message":"admins only"}',
    "41",
    "6",
    '0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
]


def expected_packet(text: str) -> dict[str, Any]:
    """What decode_packet should return for ``text`` (from wskit's codec)."""
    packet = sp.decode_engineio(text)
    inner = packet.socketio
    if inner is None:
        return {"engineio": packet.type, "socketio": None, "namespace": None, "ack_id": None, "data": packet.data}
    return {"engineio": packet.type, "socketio": inner.type, "namespace": inner.namespace, "ack_id": inner.ack_id,
            "data": inner.data}


def _packet_mistake(case: Case, got: Any) -> str:
    expected = case.expected
    if not isinstance(got, dict):
        return "return a dict with the keys engineio, socketio, namespace, ack_id, data"
    missing = sorted(set(expected) - set(got))
    if missing:
        return f"the dict lacks {', '.join(missing)}"
    if got["engineio"] != expected["engineio"]:
        return "Engine.IO types: 0 OPEN, 1 CLOSE, 2 PING, 3 PONG, 4 MESSAGE, 5 UPGRADE, 6 NOOP (the first digit)"
    if got["socketio"] != expected["socketio"]:
        return ("Socket.IO types (the second digit of a MESSAGE): 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, "
                "4 CONNECT_ERROR")
    if got["namespace"] != expected["namespace"]:
        if expected["namespace"] is None:
            return "only a MESSAGE carries a Socket.IO packet: namespace, socketio and ack_id are None otherwise"
        return "a namespace starts with '/' and ends at the ','; with none it is '/'"
    if got["ack_id"] != expected["ack_id"]:
        if expected["ack_id"] is not None and str(got["ack_id"]) == str(expected["ack_id"])[0]:
            return "an ack id can have several digits: read every digit before the JSON"
        if expected["ack_id"] is None and got["ack_id"] == 0:
            return "no digits before the JSON means no ack id: None, not 0"
        return "the ack id is the digits between the namespace and the JSON"
    if got["data"] != expected["data"]:
        return "data is the JSON after the ack id (json.loads; None when there is none), or the text after the digit"
    return ""


def _error_mistake(case: Case, error: Exception) -> str:
    """The likely mistake when decode_packet raised on a packet."""
    expected = case.expected
    if expected["ack_id"] is not None and expected["ack_id"] >= 10:
        return "an ack id can have several digits: read every digit before the JSON"
    if expected["namespace"] not in (None, "/"):
        return "a namespace starts with '/' and ends at the ','; the JSON comes after it"
    if expected["socketio"] is None:
        return "only a MESSAGE (4) carries a Socket.IO packet; the others' data is the text after the digit"
    return ""


def _check_decode_packet(decode_packet: Any) -> str:
    run_cases(decode_packet, [Case(f"decode_packet({text!r})", (text,), expected_packet(text)) for text in PACKETS],
              mistake=_packet_mistake, on_error=_error_mistake)
    # live: the packets of a real conversation
    srv = _checked_server_class()(name="exercise-packets")
    try:
        @srv.on("join")
        async def join(sid: str, room: str) -> str:
            await srv.sio.enter_room(sid, room)
            return f"joined {room}"

        client = _client(srv.url)
        client.call("join", "lobby")
        srv.emit("news", {"room": "lobby"}, room="lobby")
        client.recv("news")
        client.close()
        wire = [r.data for r in client.log if isinstance(r.data, str) and r.data[:1].isdigit()]
    finally:
        srv.stop()
    run_cases(decode_packet, [Case(f"a live packet: decode_packet({text!r})", (text,), expected_packet(text))
                              for text in wire], mistake=_packet_mistake, on_error=_error_mistake)
    return f"{len(PACKETS)} packets decoded, and {len(wire)} packets of a live conversation"


register(Exercise(
    name="decode_packet",
    notebook="05",
    title="decode Engine.IO / Socket.IO packets by hand",
    task="**Exercise 3: read the wire.** Write `decode_packet(text)` for one WebSocket text message of Socket.IO, "
         "such as `2`, `421[\"join\",\"lobby\"]` or `42/admin,[\"stats\"]`. Return a dict: `engineio` (the type "
         "name, e.g. `\"MESSAGE\"`), and for a MESSAGE `socketio` (e.g. `\"EVENT\"`), `namespace` (`\"/\"` unless "
         "one is given), `ack_id` (int or `None`) and `data` (the JSON, decoded, or `None`); for other packets "
         "those three are `None` and `data` is the text after the digit. Do not use `wskit.codec.socketio`.",
    function="decode_packet",
    solution='''import json


def decode_packet(text: str) -> dict:
    """{"engineio": ..., "socketio": ..., "namespace": ..., "ack_id": ..., "data": ...} of one packet."""
    engineio = ["OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP"]  # by their digit
    socketio = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"]
    kind, rest = engineio[int(text[0])], text[1:]
    if kind != "MESSAGE":
        return {"engineio": kind, "socketio": None, "namespace": None, "ack_id": None, "data": rest}
    inner, rest = socketio[int(rest[0])], rest[1:]
    namespace = "/"
    if rest.startswith("/"):
        namespace, _, rest = rest.partition(",")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack_id = int(rest[:digits]) if digits else None
    data = json.loads(rest[digits:]) if rest[digits:] else None
    return {"engineio": kind, "socketio": inner, "namespace": namespace, "ack_id": ack_id, "data": data}''',
    hints=(
        "The first digit is the Engine.IO type (0 OPEN ... 6 NOOP). Only a MESSAGE (4) carries a Socket.IO packet, "
        "whose first digit is its type (0 CONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR...).",
        "After the Socket.IO digit: an optional namespace ('/admin' up to a ','), then an optional ack id (every "
        "digit up to the JSON), then the JSON.",
    ),
    checker=_check_decode_packet,
    timeout=20.0,
))
