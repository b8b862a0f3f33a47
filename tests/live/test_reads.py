"""Each read of a connection's socket asks for 64 KiB, not asyncio's 256 KiB (wskit.live.loop.read_small)."""

from __future__ import annotations

import asyncio

import pytest

import wskit
from wskit.live import loop

pytestmark = pytest.mark.usefixtures("clean_kit")


def test_both_ends_read_64_kib_at_a_time_and_a_big_message_still_arrives_whole():
    async def tell_read_size(ws):
        await ws.send(str(ws.transport.max_size))
        async for message in ws:
            await ws.send(message)

    srv = wskit.Server(tell_read_size, max_size=2**21)
    c = wskit.connect(srv.url, max_size=2**21)
    assert int(c.recv()) == loop.READ_SIZE == 64 * 1024  # the server's end
    assert c.connection.transport.max_size == loop.READ_SIZE  # the client's end
    big = bytes(range(256)) * 4000  # 1,000 KiB: sixteen reads or more at each end
    c.send(big)
    assert c.recv() == big


def test_a_selector_transport_asks_256_kib_unless_told_and_others_are_left_alone():
    from asyncio import selector_events

    assert selector_events._SelectorSocketTransport.max_size == 256 * 1024  # what read_small changes, per transport

    class Other:  # uvloop's transports, TLS ones, a test double
        max_size = 2**20

    other = Other()
    loop.read_small(other)
    assert "max_size" not in vars(other)

    async def made() -> asyncio.Transport:
        _reader, writer = await asyncio.open_connection(*server_address)
        writer.close()
        return writer.transport

    srv = wskit.TCPEchoServer()
    server_address = ("127.0.0.1", srv.port)
    transport = loop.run(made())
    loop.read_small(transport)
    assert transport.max_size == loop.READ_SIZE and type(transport).max_size == 256 * 1024
