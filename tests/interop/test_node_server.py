"""A server we did not write: the official Node.js Socket.IO server (wskit/node/sio_server.mjs).

Driven by wskit's Python client, and by the official socket.io-client under Node.js. The server's packages come
from wskit/node's committed lock file, the client's from this directory's (`npm ci`, run here once).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import wskit
from tests.requires import require_node
from wskit.live.node import NodeSocketIOServer, ensure_packages

HERE = Path(__file__).parent
NODE, _NPM = require_node()


@pytest.fixture(scope="module", autouse=True)
def node_modules():
    ensure_packages(quiet=True)
    ensure_packages(HERE, quiet=True)
    yield
    wskit.stop_all()


@pytest.fixture
def js():
    server = NodeSocketIOServer(name="interop-node")
    yield server
    wskit.stop_all()


def test_the_python_client_gets_middleware_rooms_broadcasts_and_acks(js):
    with pytest.raises(wskit.SocketIORefused, match="say who you are"):
        wskit.SocketIOClient(js.url, name="stranger")  # io.use(...) refuses: next(new Error(...))

    alice = wskit.SocketIOClient(js.url, name="alice", auth={"name": "alice"})
    bob = wskit.SocketIOClient(js.url, name="bob", auth={"name": "bob"})
    carol = wskit.SocketIOClient(js.url, name="carol", auth={"name": "carol"})
    assert alice.recv("welcome") == ("welcome", "hello alice")  # socket.emit in io.on("connection")
    assert alice.call("join", "lobby") == "alice joined lobby"  # socket.join + the ack callback
    assert bob.call("join", "lobby") == "bob joined lobby"
    assert carol.call("join", "games") == "carol joined games"

    alice.emit("say", "lobby", "lunch?")  # socket.to(room).emit: the room but not the sender
    assert bob.recv("said") == ("said", {"from": "alice", "text": "lunch?"})
    with pytest.raises(TimeoutError):
        alice.recv("said", timeout=0.3)
    with pytest.raises(TimeoutError):
        carol.recv("said", timeout=0.1)

    bob.emit("announce", "lobby", "canteen closes at 2")  # io.to(room).emit: the sender too
    assert alice.recv("announcement")[1] == bob.recv("announcement")[1] == "canteen closes at 2"

    bob.on("question", lambda text: "yes!" if "lunch" in text else "no")  # the client acknowledges the server
    assert alice.call("ask", bob.sid, "lunch at noon?") == {"answers": ["yes!"]}

    names = [line["name"] for line in js.lines if line.get("event") == "connection"]
    assert names == ["alice", "bob", "carol"]  # the refused stranger never reached io.on("connection")
    assert alice.transport == "websocket"  # upgraded from long polling, as against a python-socketio server


def test_the_node_server_pings_and_the_python_client_pongs():
    js = NodeSocketIOServer(name="interop-heartbeat", ping_interval=0.2, ping_timeout=1)
    client = wskit.SocketIOClient(js.url, auth={"name": "py"}, transports=["websocket"])
    def received_ping(after):
        return client.log.wait_for(lambda r: r.opcode == "PING" and r.direction == "received" and r.time > after,
                                   timeout=10)

    first = received_ping(-1)
    second = received_ping(first.time)
    pong = client.log.wait_for(lambda r: r.opcode == "PONG" and r.direction == "sent" and r.time > first.time)
    assert (first.data, pong.data) == ("2", "3")  # Engine.IO v4: the server pings, the client answers
    assert second.time - first.time >= 0.15  # every pingInterval (0.2 s)
    assert not [r for r in client.log if r.opcode == "PING" and r.direction == "sent"]


def test_the_official_js_client_joins_broadcasts_and_buffers_while_disconnected(js):
    result = subprocess.run([NODE, "node_server_client.mjs", js.url, "node-client", "lobby"], cwd=HERE,
                            capture_output=True, text=True, timeout=30)
    assert result.stdout, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, outcome
    assert outcome["joined"] == "node-client joined lobby"
    assert ["welcome", "hello node-client"] in outcome["events"]
    assert ["announcement", "node-client is here"] in outcome["events"]
    assert outcome["disconnect"] == "forced close"  # engine.close(): the transport went, not the app
    assert outcome["connectedWhileEmitting"] is False
    assert outcome["buffered"] == "sent while disconnected"  # buffered by the client, sent after reconnecting
    assert outcome["connections"] == 2
    connected = [line for line in js.lines if line.get("event") == "connection"]
    assert [line["name"] for line in connected] == ["node-client", "node-client"]
