"""The baseline servers: raw TCP echo and the five-way PushServer, with their byte-counting client."""

from __future__ import annotations

import asyncio
import json

import pytest

import wskit
from wskit.live import loop
from wskit.live.baseline import HTTPClient

from .helpers import refuses


def test_tcp_echo_with_a_raw_socket():
    srv = wskit.TCPEchoServer()
    assert srv.url == f"tcp://127.0.0.1:{srv.port}/"
    with wskit.RawSocket(srv.url) as raw:
        raw.send(b"no protocol at all")
        assert raw.recv_exactly(18) == b"no protocol at all"
    assert srv.bytes_echoed == 18
    srv.stop()
    assert refuses(srv.port) and "stopped" in repr(srv)


def test_short_and_long_poll_and_echo_over_http():
    push = wskit.PushServer()
    push.publish("one")
    push.publish("two")

    async def client():
        async with HTTPClient(push.http_url) as http:
            polled = await http.request("GET", "/poll?after=1")
            empty = await http.request("GET", "/poll?after=2")
            waiting = asyncio.ensure_future(http.request("GET", "/wait?after=2"))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # a long poll is held until there is news
            await push.apublish("three")
            held = await waiting
            echoed = await http.request("POST", "/echo", b"ping?")
            bad = await http.request("GET", "/poll?after=x")
            return polled, empty, held, echoed, bad, http

    polled, empty, held, echoed, bad, http = loop.run(client())
    assert json.loads(polled.body) == {"events": [{"id": 2, "data": "two"}]}
    assert json.loads(empty.body) == {"events": []}
    assert json.loads(held.body) == {"events": [{"id": 3, "data": "three"}]}
    assert echoed.body == b"ping?"
    assert bad.status == 400 and b"after" in bad.body
    assert http.requests == 5 and push.http_requests == 5
    assert http.bytes_received > sum(len(r.body) for r in (polled, empty, held, echoed, bad))  # heads count too


def test_server_sent_events_and_websocket_push():
    push = wskit.PushServer()
    push.publish("before")

    async def sse():
        got = []
        async with HTTPClient(push.http_url) as http:
            async for ident, data in http.events("/events?after=0"):
                got.append((ident, data))
                if ident == 1:
                    await push.apublish("after")
                if ident == 2:
                    return got

    assert loop.run(sse()) == [(1, "before"), (2, "after")]
    ws = wskit.connect(push.ws_url + "?after=0")
    assert [json.loads(ws.recv())["data"] for _ in range(2)] == ["before", "after"]
    push.publish("live")
    assert json.loads(ws.recv()) == {"id": 3, "data": "live"}


def test_stop_releases_held_requests_quickly():
    push = wskit.PushServer(long_poll_timeout=30)
    ws = wskit.connect(push.ws_url)

    async def hold():
        async with HTTPClient(push.http_url) as http:
            return await http.request("GET", "/wait?after=0")

    waiting = asyncio.run_coroutine_threadsafe(hold(), loop.get_loop())
    with pytest.raises(TimeoutError):
        waiting.result(0.1)
    push.stop()
    assert json.loads(waiting.result(5).body) == {"events": []}
    with pytest.raises(wskit.ConnectionClosed):
        ws.recv(timeout=5)
    assert wskit.live_objects() == [ws]
