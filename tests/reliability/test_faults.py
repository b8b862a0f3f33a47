"""Faults: a server that goes away, clients that come back, and a consumer too slow to keep up."""

from __future__ import annotations

import asyncio
import json

import pytest

import wskit
from wskit.codec import frames as fr

pytestmark = pytest.mark.usefixtures("clean_kit")


def test_a_stopped_server_says_going_away_and_a_crashed_one_says_nothing():
    srv = wskit.EchoServer()
    client = wskit.connect(srv.url)
    srv.stop()
    with pytest.raises(wskit.ConnectionClosed):
        client.recv(timeout=3)
    assert client.close_code == 1001  # going away

    async def crash(ws):
        await ws.recv()
        ws.transport.abort()  # the TCP connection vanishes: no close frame

    crashing = wskit.Server(crash)
    victim = wskit.connect(crashing.url)
    victim.send("anything")
    with pytest.raises(wskit.ConnectionClosed):
        victim.recv(timeout=3)
    assert victim.close_code == 1006  # abnormal closure


def test_a_reconnecting_client_comes_back_with_backoff():
    srv = wskit.EchoServer(name="flaky")
    port = srv.port
    client = wskit.connect(srv.url, reconnect=True)
    before = client.connections
    srv.stop()
    client.log.wait_for(lambda r: r.info.startswith("attempt 3"), timeout=5)  # it keeps trying, slower each time
    wskit.EchoServer(name="flaky", port=port)
    client.wait_connected(timeout=10, after=before)
    client.send("back")
    assert client.recv() == "back"
    attempts = [r.info for r in client.log if r.opcode == "RECONNECTING"]
    delays = [float(a.split(" in ")[1].split(" s")[0]) for a in attempts]
    assert len(delays) >= 3 and delays[2] > delays[1] > delays[0]  # exponential backoff
    client.close()
    assert wskit.live_objects() == [o for o in wskit.live_objects() if o.name == "flaky"]


def test_a_reconnecting_client_stops_trying_when_closed():
    srv = wskit.EchoServer()
    client = wskit.connect(srv.url, reconnect=True)
    srv.stop()
    client.log.wait_for(lambda r: r.opcode == "RECONNECTING", timeout=5)
    client.close()
    count = sum(1 for r in client.log if r.opcode == "RECONNECTING")
    with pytest.raises(TimeoutError):
        client.log.wait_for(lambda r: r.opcode == "RECONNECTING" and r.info.startswith(f"attempt {count + 1}"),
                            timeout=1)


def test_a_slow_consumer_does_not_hold_up_the_others():
    from websockets.asyncio.client import connect

    from wskit.live import loop

    chat = wskit.ChatServer()
    slow = wskit.RawSocket(chat.url, timeout=10)
    slow.handshake(path="/?name=slow&room=lobby")  # joins the lobby, then never reads
    count, text = 4000, "x" * 4000

    async def fast_clients():
        # Readers on the server's own loop, with no thread hops: they keep up, as a healthy client does.
        async with connect(chat.url_for("alice"), max_size=None) as alice, \
                connect(chat.url_for("bob"), max_size=None) as bob:

            async def send():
                for i in range(count):
                    await alice.send(f"{i} {text}")

            async def receive(client):
                return [json.loads(await client.recv())["id"] for _ in range(count)]

            _, got_alice, got_bob = await asyncio.wait_for(
                asyncio.gather(send(), receive(alice), receive(bob)), 60)
            return got_alice, got_bob

    got_alice, got_bob = loop.run(fast_clients(), timeout=90)
    assert got_alice == got_bob == list(range(1, count + 1))  # every message, in order, to everyone fast
    assert chat.dropped_slow == 1
    error = chat.log.wait_for(lambda r: r.opcode == "ERROR" and "too slow" in r.info)
    assert "slow is too slow" in error.info
    # Deep in the slow socket's unread bytes, after what fitted in the buffers, is its close frame.
    while (frame := slow.recv_frame()).opcode is not fr.Opcode.CLOSE:
        pass
    # 1013 Try Again Later: the member fell behind; it broke no policy (that would be 1008)
    assert fr.parse_close(frame.payload) == (1013, "too slow: message backlog full")
