"""The baseline servers: raw TCP echo and the five-way PushServer, with their byte-counting client."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

import wskit
from wskit.codec.errors import UsageError
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


def test_events_carry_multi_line_data_on_every_transport_and_refuse_a_cr():
    push = wskit.PushServer()
    push.publish("two\nlines")
    with pytest.raises(UsageError, match="CR"):  # an event stream cannot carry a CR: refused before it is published
        push.publish("carriage\rreturn")
    assert len(push.events) == 1

    async def first_event():
        async with HTTPClient(push.http_url) as http:
            async for event in http.events("/events?after=0"):
                return event

    assert loop.run(first_event()) == (1, "two\nlines")  # two data: lines on the wire, joined again
    ws = wskit.connect(push.ws_url + "?after=0")
    assert json.loads(ws.recv())["data"] == "two\nlines"


def chunked(body: bytes, size: int) -> bytes:
    """``body`` in chunks of ``size`` bytes, the size of each in hex with an extension, then the last chunk."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def test_http_client_counts_every_byte_and_parses_each_response_once():
    stream = (b"\xef\xbb\xbf: a comment\r\nid: 1\r\ndata: first\r\ndata:second\r\n\r\n"
              b"retry: 10\rid: 2\rdata\r\revent: unseen\n")  # CR line ends too; the last event never ends
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Case: Kept\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(stream, 7),  # 7-byte chunks cut CRLFs and the byte order mark in two
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno",
    ]
    received = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for answer in answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"Content-Length: (\d+)", head)[1]) if b"Content-Length" in head else 0
                received.append(head + await reader.readexactly(length))
                writer.write(answer)
                await writer.drain()
            await reader.read()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def client():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        try:
            async with HTTPClient(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/") as http:
                response = await http.request("POST", "/x", b"12345")
                events = [event async for event in http.events("/stream")]
                counted = http.bytes_sent, http.bytes_received
                with pytest.raises(ConnectionError, match="not an event stream"):
                    await anext(http.events("/plain"))
                with pytest.raises(ConnectionError, match="cannot carry another request"):
                    await http.request("GET", "/")  # the refused stream's body was never read
                return response, events, counted, http.requests
        finally:
            server.close()

    loop.get_loop()  # starts the wskit loop: no server of wskit's runs in this test
    response, events, (sent, got), requests = loop.run(client())
    assert (response.status, response.body, response.headers.get("x-case")) == (200, b"hello", "Kept")
    assert ("X-Case", "Kept") in response.headers.items()  # names as the server wrote them
    assert events == [(1, "first\nsecond"), (2, "")]
    assert sent == sum(len(request) for request in received[:2])  # every byte the server read, heads and body
    assert got == len(answers[0]) + len(answers[1])  # every byte it wrote: 1xx, heads, chunk sizes, chunk ends
    assert requests == 3
