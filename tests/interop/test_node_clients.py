"""Clients we did not write: the official socket.io-client and the ws package, under Node.js.

The packages come from the committed lock file (`npm ci` once, by `wskit.live.node.ensure_packages`).
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

import wskit
from tests.requires import require_node
from wskit.live.node import ensure_packages

HERE = Path(__file__).parent
NODE, _NPM = require_node()


@pytest.fixture(scope="module", autouse=True)
def node_modules():
    ensure_packages(HERE, quiet=True)
    yield
    wskit.stop_all()


def node(script: str, *args: str) -> dict:
    result = subprocess.run([NODE, script, *args], cwd=HERE, capture_output=True, text=True, timeout=30)
    assert result.stdout, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, outcome
    return outcome


def test_the_official_socketio_client_joins_a_room_gets_an_ack_and_a_broadcast():
    srv = wskit.SocketIOServer(name="interop-sio")
    ready = threading.Event()

    @srv.on("connect")
    async def connect(sid, environ, auth):
        if (auth or {}).get("token") != "friend":
            raise wskit.SocketIORefused("a friend's token is needed")

    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
        return {"joined": room}

    @srv.on("ready")
    async def on_ready(sid, name):
        await srv.sio.emit("said", {"from": "python", "to": name}, room="lobby")
        ready.set()

    outcome = node("sio_client.mjs", srv.url, "node", "lobby")
    assert ready.is_set()
    assert outcome["ack"] == {"joined": "lobby"}
    assert outcome["events"] == [{"from": "python", "to": "node"}]
    assert outcome.get("upgradedTo", outcome["transport"]) == "websocket"
    assert any('"join","lobby"' in str(r.data) for r in srv.log.messages("received"))


def test_the_official_client_is_refused_without_a_token():
    srv = wskit.SocketIOServer(name="interop-refuse")

    @srv.on("connect")
    async def connect(sid, environ, auth):
        raise wskit.SocketIORefused("no strangers")

    result = subprocess.run([NODE, "sio_client.mjs", srv.url, "node", "lobby"], cwd=HERE,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert json.loads(result.stdout.strip())["error"] == "connect_error: no strangers"


def test_the_ws_package_talks_to_echo_server():
    srv = wskit.EchoServer(name="interop-ws", origins=["https://friend.example"])
    outcome = node("ws_client.mjs", srv.url)
    assert outcome["received"] == ["hello from node", [0, 1, 2, 255]]
    assert outcome["close"] == [1000, "bye from node"]
    closed = srv.log.wait_for(lambda r: r.opcode == "CLOSED")
    assert (closed.code, closed.info) == (1000, "bye from node")
    assert srv.log.handshakes[0].request.headers.get("Origin") == "https://friend.example"
