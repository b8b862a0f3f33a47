"""wskit.live clients: the plain-cell client, the async client, the raw socket, the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest

import wskit
from wskit.codec import handshake as hs
from wskit.codec.kinds import RecordKind
from wskit.live.log import TrafficLog


def test_client_records_handshake_and_timings():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url, origin="https://friend.example", subprotocols=None)
    assert set(c.timings) == {"tcp_connect", "upgrade"}
    assert all(0 < t < 1 for t in c.timings.values())
    request, response = c.handshake.request, c.handshake.response
    assert request.headers.get("Origin") == "https://friend.example"
    assert response.status == 101
    hs.check_response(response, request.key)
    assert "open" in repr(c)


def test_send_json_and_reject_other_types():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send({"hello": [1, 2]})
    assert json.loads(c.recv()) == {"hello": [1, 2]}
    with pytest.raises(TypeError, match=r"str .* bytes"):
        c.send(3.14)


def test_recv_times_out_instead_of_hanging():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"0\.2 s"):
        c.recv(timeout=0.2)
    assert time.monotonic() - started < 2
    c.send("still fine")  # the connection survives a timeout
    assert c.recv() == "still fine"


def test_connect_errors_are_clear():
    with pytest.raises(ValueError, match="ws://"):
        wskit.connect("http://127.0.0.1:1/")
    with pytest.raises(TypeError, match="unknown options"):
        wskit.connect("ws://127.0.0.1:1/", oirgin="typo")
    srv = wskit.EchoServer()
    port = srv.port
    srv.stop()
    with pytest.raises(ConnectionRefusedError):
        wskit.connect(f"ws://127.0.0.1:{port}/")
    assert wskit.live_objects() == []


def test_close_with_code_and_reason():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.close(4000, "bye friend")
    assert c.closed and c.close_code == 4000
    closed = srv.log.wait_for(lambda r: r.opcode == "CLOSED")
    assert (closed.code, closed.info) == (4000, "bye friend")
    c.close()  # twice is fine


def test_async_client_from_another_event_loop():
    """A notebook cell's `await` runs on the kernel's loop, not on wskit's."""
    srv = wskit.EchoServer()

    async def cell():
        async with await wskit.aconnect(srv.url) as c:
            await c.send("from await")
            reply = await c.recv()
            rtt = await c.ping()
        return reply, rtt, c

    reply, rtt, c = asyncio.run(cell())
    assert reply == "from await" and rtt > 0 and c.closed
    assert [r.opcode for r in c.log.messages()] == ["TEXT", "TEXT"]


def test_raw_socket_speaks_the_handshake_by_hand():
    srv = wskit.EchoServer()
    raw = wskit.RawSocket(srv.url)
    key = hs.generate_key()
    response = raw.send_request(hs.build_request(f"127.0.0.1:{srv.port}", key=key))
    hs.check_response(response, key)
    assert raw.connect_time > 0
    assert bytes(raw.sent).startswith(b"GET / HTTP/1.1\r\n")
    assert bytes(raw.received).startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    srv.log.wait_for(lambda r: r.opcode == "OPEN")
    with pytest.raises(TypeError, match="bytes"):
        raw.send("text")
    raw.close()
    with pytest.raises(OSError, match="closed"):
        raw.send(b"x")


def test_raw_socket_read_times_out_clearly():
    srv = wskit.EchoServer()
    with wskit.RawSocket(srv.url, timeout=0.2) as raw, pytest.raises(TimeoutError, match="nothing more"):
        raw.recv_head()  # we sent nothing, so the server says nothing


# --- the traffic log itself -----------------------------------------------------------


def test_log_is_bounded_and_counts_what_it_dropped():
    log = TrafficLog(maxlen=3)
    for i in range(5):
        log.add("sent", "TEXT", data=str(i), size=1)
    assert [r.data for r in log] == ["2", "3", "4"]
    assert log.dropped == 2
    assert "(2 earlier records not shown)" in log.table()


def test_log_subscribers_and_a_broken_one():
    log = TrafficLog()
    seen = []
    unsubscribe = log.subscribe(seen.append)
    log.subscribe(lambda record: 1 / 0)
    log.add("sent", "TEXT", data="a", size=1)
    # The broken viewer is dropped and reported in the log itself.
    assert [r.opcode for r in seen] == ["TEXT", "ERROR"]
    assert log[-1].opcode == "ERROR" and "ZeroDivisionError" in log[-1].info
    unsubscribe()
    log.add("sent", "TEXT", data="b", size=1)
    assert len(seen) == 2


def test_a_raw_subscriber_gets_the_entry_undecoded_and_decodes_it_later():
    """What the widgets use: the loop thread hands over the per-frame entry as it is; record_of decodes it."""
    log = TrafficLog()
    raw, records = [], []
    log.subscribe(raw.append, raw=True)
    entry = (time.perf_counter(), "received", RecordKind.TEXT, 5, memoryview(b"hello"), 7)  # as a connection appends
    log._append(entry, 325)
    assert raw == [entry]  # nothing decoded on the loop thread while only raw subscribers follow
    log.subscribe(records.append)
    log._append(entry, 325)
    assert raw[-1] is entry and records[-1] == log.record_of(entry)
    assert (records[-1].data, records[-1].conn, records[-1].opcode) == ("hello", 7, "TEXT")
    assert log.record_of(records[-1]) is records[-1]  # a record is its own record


def test_log_wait_for_times_out():
    log = TrafficLog()
    with pytest.raises(TimeoutError):
        log.wait_for(lambda r: True, timeout=0.05)


def test_log_json_export():
    log = TrafficLog()
    log.add("received", "BINARY", data=b"\x01\x02", size=2)
    [row] = json.loads(log.to_json())
    assert row["data"] == "0102" and row["data_encoding"] == "hex"


def test_log_keeps_only_the_start_of_big_payloads():
    log = TrafficLog(max_data=8)
    record = log.add("received", "BINARY", data=bytes(100), size=100)
    assert record.data == bytes(8) and record.size == 100


def test_logs_count_the_bytes_on_the_wire():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send("hello")
    c.recv()
    request, response = c.handshake.request.to_bytes(), c.handshake.response.to_bytes()
    # a masked client frame: 2 header bytes + 4 mask + 5; the server's: 2 + 5
    assert c.log.bytes_sent == len(request) + 11
    assert c.log.bytes_received == len(response) + 7
    srv.log.wait_for(lambda r: r.direction == "sent")
    assert (srv.log.bytes_received, srv.log.bytes_sent) == (c.log.bytes_sent, c.log.bytes_received)


# --- one API (issue 17) and linear frames (issue 20) ------------------------------------------------


def test_client_is_constructible_with_visible_defaults():
    import inspect

    srv = wskit.EchoServer()
    c = wskit.Client(srv.url)
    c.send("hi")
    assert c.recv() == "hi"
    parameters = inspect.signature(wskit.Client).parameters
    assert parameters["timeout"].default == 5.0 and parameters["max_size"].default == 2**20
    assert c.connect_count == c.connections == 1  # times connected; srv.connections is how many are open
    c.close()
    assert srv.connections == 0


def test_live_errors_share_one_root():
    srv = wskit.EchoServer(origins=["https://friend.example"])
    with pytest.raises(wskit.LiveError):
        wskit.connect(srv.url, origin="https://evil.example")
    assert issubclass(wskit.HandshakeRefused, ConnectionError)


def test_backoff_never_exceeds_its_cap():
    from wskit.live import backoff_delay

    delays = [[backoff_delay(n) for n in range(1, 12)] for _ in range(300)]
    assert max(max(run) for run in delays) <= 3.0
    assert min(run[0] for run in delays) >= 0.08 and max(run[0] for run in delays) <= 0.12
    assert min(run[-1] for run in delays) >= 3.0 * 0.8  # capped, not compounding down or up


def test_raw_recv_frame_is_linear_in_the_frame_size(monkeypatch):
    """Before: 1/4/16/32 MiB took 0.011/0.05/0.49/2.0 s (quadratic): the buffer was decoded again after every
    chunk read. Counted, not timed (timings are noise on a busy machine): the bytes the decoder is handed for one
    32 MiB frame stay within three passes over it."""
    from wskit.codec import frames as fr
    from wskit.live import raw as raw_module

    decoded: list[int] = []
    real_decode = fr.decode

    def counting_decode(data, *args, **kwargs):
        decoded.append(len(data))
        return real_decode(data, *args, **kwargs)

    async def sender(ws):
        async for message in ws:
            await ws.send(b"\x00" * int(message))

    srv = wskit.Server(sender, max_size=None, write_timeout=None)
    size = 32 * 2**20
    with wskit.RawSocket(srv.url, timeout=60) as raw:
        raw.handshake()
        raw.send_frame(fr.Frame(fr.Opcode.TEXT, str(size).encode()).masked_with(b"abcd"))
        monkeypatch.setattr(raw_module.fr, "decode", counting_decode)
        frame = raw.recv_frame()
    assert len(frame.payload) == size
    assert len(decoded) <= 3, decoded[:10]  # quadratic: one decode per chunk read, thousands for 32 MiB
    assert sum(decoded) <= 3 * (size + 14), sum(decoded)


# --- the plain-cell fast path: send() queues without waiting, recv() waits on an inbox ---------------------


def test_sends_keep_their_order_and_each_recv_gets_the_next_echo():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    for i in range(300):  # more than MAX_UNSENT: some of these wait for the queue, none overtakes another
        c.send(f"{i}")
    assert [c.recv() for _ in range(300)] == [f"{i}" for i in range(300)]
    c.send(b"\x00\x01")
    assert c.recv() == b"\x00\x01"


def test_what_send_queued_goes_out_before_close():
    async def sink(ws):  # reads everything, answers nothing (an echo would fill the client's unread buffer)
        async for _ in ws:
            pass

    srv = wskit.Server(sink)
    c = wskit.connect(srv.url)
    for i in range(20):
        c.send(f"last words {i}")
    c.close()
    received = [r.data for r in srv.log.records if r.direction == "received" and str(r.data).startswith("last words")]
    assert received == [f"last words {i}" for i in range(20)]


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_a_peer_that_stops_reading_bounds_what_send_queues():
    from wskit.live.client import MAX_UNSENT

    async def deaf(ws):  # takes the first messages into websockets' buffer, then never reads again
        await asyncio.sleep(60)

    srv = wskit.Server(deaf, max_size=None)
    c = wskit.connect(srv.url, timeout=1.0)
    chunk = b"\x00" * 256 * 1024
    sent, most_unsent = 0, 0
    with pytest.raises(TimeoutError):
        for _ in range(400):  # ~100 MiB: far more than websockets' buffer and the kernel's socket buffers
            c.send(chunk)
            sent += 1
            most_unsent = max(most_unsent, c.unsent)
    assert most_unsent <= MAX_UNSENT
    assert sent < 400  # it stopped at the bound and said so, instead of queueing 100 MiB
    # neither side can finish a closing handshake through the full buffers: the server drops the connection
    with pytest.warns(RuntimeWarning, match="did not close within 0.5 s"):
        srv.stop(timeout=0.5)


def test_recv_that_timed_out_loses_nothing_and_leaves_the_connection_to_loop_code():
    from wskit.live import loop

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    with pytest.raises(TimeoutError):
        c.recv(timeout=0.05)
    c.send("late")
    assert c.recv() == "late"

    ws = c.connection  # taking it (in the cell) stops the reader recv() keeps: code on the loop may receive

    async def raw_echo():
        await ws.send("raw")
        return await ws.recv()

    assert loop.run(raw_echo(), 5) == "raw"
    c.send("again")
    assert c.recv() == "again"


def test_what_the_reader_read_ahead_stays_for_recv_in_order():
    from wskit.live.client import READ_AHEAD

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    count = 3 * READ_AHEAD  # more than the reader holds: it parks, and recv() lets it go on
    for i in range(count):
        c.send(str(i))
    assert c.recv() == "0"
    srv.log.wait_for(lambda r: r.direction == "sent" and r.data == str(count - 1), timeout=5)
    assert [c.recv() for _ in range(count - 1)] == [str(i) for i in range(1, count)]


def test_send_after_the_peer_closed_raises_as_websockets_does():
    import websockets

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    srv.close()
    with pytest.raises(websockets.ConnectionClosed):
        c.recv(timeout=5)
    with pytest.raises(websockets.ConnectionClosed):
        c.send("anyone there?")


def test_a_message_whose_fragments_arrive_apart_is_received_whole_and_once():
    async def slow_fragments(ws):
        async def parts():
            for part in ("one ", "two ", "three"):
                yield part
                await asyncio.sleep(0.05)  # each fragment in its own read: recv() waits for the rest

        await ws.recv()
        await ws.send(parts())
        await ws.send("after")
        await ws.wait_closed()

    srv = wskit.Server(slow_fragments)
    c = wskit.connect(srv.url)
    c.send("go")
    assert c.recv() == "one two three"  # the pump withdrew at each missing fragment and lost none of them
    assert c.recv() == "after"
    with pytest.raises(TimeoutError):
        c.recv(timeout=0.1)


def test_messages_sent_before_a_close_come_first_then_the_close():
    import websockets

    async def last_words(ws):
        await ws.recv()
        for i in range(5):
            await ws.send(f"last {i}")
        await ws.close(1001, "going away")

    srv = wskit.Server(last_words)
    c = wskit.connect(srv.url)
    c.send("go")
    assert [c.recv() for _ in range(5)] == [f"last {i}" for i in range(5)]
    with pytest.raises(websockets.ConnectionClosedOK) as closed:
        c.recv()
    assert closed.value.rcvd.code == 1001


def test_invalid_utf8_from_a_hostile_server_closes_with_1007_as_websockets_does():
    import socket
    import threading

    import websockets

    from wskit.codec import frames as fr
    from wskit.codec import handshake as hs

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def hostile():  # answers the handshake, then sends a text frame that is not UTF-8
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key"))
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + hs.accept_key(key.decode()).encode() + b"\r\n\r\n")
            conn.sendall(fr.encode(fr.Frame(fr.Opcode.TEXT, b"\xff\xfe"), check=False))
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(4096)  # the client's close frame; then the TCP connection ends (``with conn``)

    thread = threading.Thread(target=hostile, daemon=True)
    thread.start()
    c = wskit.connect(f"ws://127.0.0.1:{port}/")
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        c.recv(timeout=5)
    assert closed.value.sent.code == 1007  # invalid frame payload data (RFC 6455 §7.4.1)
    thread.join(5)
    listener.close()


def test_a_str_subclass_is_sent_as_text():
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send(Colour.RED)
    assert c.recv() == "red"
    c.send("after")  # and nothing went wrong on the way
    assert c.recv() == "after"


def test_a_receiver_on_the_loop_beside_recv_in_the_cell_keeps_the_connection():
    from wskit.live import loop

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    ws = c.connection

    async def receive_on_the_loop():
        return asyncio.ensure_future(ws.recv())

    waiting = loop.run(receive_on_the_loop())  # code on the loop, waiting in ws.recv()
    c.send("one")
    c.send("two")
    assert c.recv(timeout=5) == "two"  # the loop's receiver took "one"; neither broke the connection

    async def result():
        return await waiting

    assert loop.run(result(), 5) == "one"
    c.send("three")
    assert c.recv(timeout=5) == "three" and not c.closed


def test_messages_read_ahead_before_a_reconnect_all_come_then_the_new_connection():
    import itertools

    import websockets

    from wskit.live.client import READ_AHEAD

    connections = itertools.count()
    count = READ_AHEAD + 4  # more than the cell's inbox holds: some wait in websockets when the server closes

    async def burst_then_close(ws):
        if next(connections) == 0:
            await ws.recv()
            for i in range(count):
                await ws.send(f"m{i}")
            await ws.close()
        else:
            await ws.send("again")
            await ws.wait_closed()

    srv = wskit.Server(burst_then_close)
    c = wskit.connect(srv.url, reconnect=True)
    c.send("go")
    first = c.recv()  # reading has begun; the rest arrive, the server closes, the client reconnects
    c.wait_connected(after=1)
    assert [first] + [c.recv() for _ in range(count - 1)] == [f"m{i}" for i in range(count)]
    with pytest.raises(websockets.ConnectionClosedOK):  # the drop, once, after all that came before it
        c.recv()
    assert c.recv() == "again"


def test_text_with_no_utf8_form_is_refused_before_anything_is_sent():
    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    with pytest.raises(ValueError, match=r"cannot be sent.*nothing was sent"):
        c.send("half a pair: \ud800")
    c.send("héllo")  # the connection is fine, and other text goes through
    assert c.recv() == "héllo"


def _first_connection_sends(*messages, wait_for_one=False):
    """A handler: the first connection sends ``messages`` (after one from the client, if asked) and closes; each
    later one sends "again" and stays open."""
    import itertools

    connections = itertools.count()

    async def handler(ws):
        if next(connections) == 0:
            if wait_for_one:
                await ws.recv()
            for message in messages:
                await ws.send(message)
            await ws.close(1001 if not messages else 1000)
        else:
            await ws.send("again")
            await ws.wait_closed()

    return handler


@pytest.mark.parametrize("read_first", [False, True])
def test_a_drop_and_reconnect_before_recv_loses_nothing(read_first):
    import websockets

    srv = wskit.Server(_first_connection_sends("m0", "m1", wait_for_one=True))
    c = wskit.connect(srv.url, reconnect=True)
    if read_first:  # reading began, then stopped (a recv that timed out) before the drop
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.01)
    c.send("go")
    c.wait_connected(after=1)  # dropped and reconnected, and no recv() was reading
    assert [c.recv(), c.recv()] == ["m0", "m1"]
    with pytest.raises(websockets.ConnectionClosedOK):  # the drop, once
        c.recv()
    assert c.recv() == "again"


def _read_until(c, last, limit=40):
    """What a plain client's recv() gives until ``last``: messages, and "CC" for each ConnectionClosed."""
    import websockets

    got = []
    while (not got or got[-1] != last) and len(got) < limit:
        try:
            got.append(c.recv(timeout=5))
        except websockets.ConnectionClosed:
            got.append("CC")
    return got


def test_a_reconnecting_client_keeps_a_bounded_number_of_unread_connections():
    import itertools

    from wskit.live.client import UNREAD_CONNECTIONS

    connections = itertools.count(1)
    dropped = UNREAD_CONNECTIONS + 2

    async def send_then_close(ws):
        k = next(connections)
        await ws.send(f"n{k}" if k <= dropped else "live")
        await (ws.close() if k <= dropped else ws.wait_closed())

    srv = wskit.Server(send_then_close)
    c = wskit.connect(srv.url, reconnect=True)
    c.wait_connected(after=dropped)
    assert len(c._core.unread) == UNREAD_CONNECTIONS + 1  # the old ones kept, and the open one
    assert sum("never read" in r.info for r in c.log.records if r.opcode == "ERROR") == 2
    expected = [x for k in range(dropped - UNREAD_CONNECTIONS + 1, dropped + 1) for x in (f"n{k}", "CC")]
    assert _read_until(c, "live") == [*expected, "live"]  # the newest UNREAD_CONNECTIONS old ones, oldest first


def test_messages_read_ahead_then_a_drop_while_not_reading_still_end_with_the_drop():
    srv = wskit.Server(_first_connection_sends("m0", "m1", "m2", wait_for_one=True))
    c = wskit.connect(srv.url, reconnect=True)
    c.send("go")
    assert c.recv() == "m0"  # the others are read ahead into the cell's inbox, or are on their way
    c.connection  # noqa: B018 (taking it stops reading; what was read stays for recv())
    c.wait_connected(after=1)
    assert _read_until(c, "again") == ["m1", "m2", "CC", "again"]


def test_the_async_client_reads_a_dropped_connection_to_its_end_then_the_new_one():
    import websockets

    srv = wskit.Server(_first_connection_sends("m0", "m1"))

    async def cell():
        c = await wskit.aconnect(srv.url, reconnect=True)
        while c._core.connect_count < 2:  # dropped and reconnected before any recv()
            await asyncio.sleep(0.01)
        got = [await c.recv(), await c.recv()]
        with pytest.raises(websockets.ConnectionClosedOK):
            await c.recv()
        got.append(await c.recv())
        await c.close()
        return got

    assert asyncio.run(cell()) == ["m0", "m1", "again"]


def test_the_async_client_owes_a_partly_read_connection_its_end_after_another_drop():
    import itertools

    import websockets

    connections = itertools.count(1)

    async def handler(ws):
        k = next(connections)
        if k == 1:
            await ws.send("m0")
            await ws.send("m1")
            await ws.close()
        elif k == 2:
            await ws.send("x2")
            await ws.recv()
            await ws.close()
        else:
            await ws.send("live")
            await ws.wait_closed()

    srv = wskit.Server(handler)

    async def cell():
        c = await wskit.aconnect(srv.url, reconnect=True)
        while c._core.connect_count < 2:
            await asyncio.sleep(0.01)
        got = [await c.recv(), await c.recv()]  # the first connection's messages, not yet its end
        await c.send("drop this one too")
        while c._core.connect_count < 3:
            await asyncio.sleep(0.01)
        while not got or got[-1] != "live":
            try:
                got.append(await c.recv(timeout=5))
            except websockets.ConnectionClosed:
                got.append("CC")
        await c.close()
        return got

    assert asyncio.run(cell()) == ["m0", "m1", "CC", "x2", "CC", "live"]


def test_a_drop_with_nothing_to_read_is_skipped_when_no_recv_waited():
    srv = wskit.Server(_first_connection_sends())  # closes at once (1001), having sent nothing
    c = wskit.connect(srv.url, reconnect=True)
    c.wait_connected(after=1)
    assert c.recv() == "again"  # the first connection brought nothing: no stale ConnectionClosed before this


@pytest.mark.parametrize("flavour", ["plain", "async"])
def test_a_recv_between_the_drop_and_the_reconnection_waits_for_the_new_connection(flavour):
    import websockets

    srv = wskit.Server(_first_connection_sends("a"))
    if flavour == "plain":
        c = wskit.connect(srv.url, reconnect=True)
        assert c.recv() == "a"
        with pytest.raises(websockets.ConnectionClosedOK):
            c.recv()
        assert c.recv(timeout=5) == "again"  # not the same drop again while the client redials
        return

    async def cell():
        c = await wskit.aconnect(srv.url, reconnect=True)
        got = [await c.recv()]
        with pytest.raises(websockets.ConnectionClosedOK):
            await c.recv()
        got.append(await c.recv(timeout=5))
        await c.close()
        return got

    assert asyncio.run(cell()) == ["a", "again"]


def test_once_the_client_gives_up_reconnecting_recv_raises_the_drop_again():
    import websockets

    srv = wskit.Server(_first_connection_sends("a", wait_for_one=True))
    c = wskit.connect(srv.url, reconnect=True)
    c._core.reconnect_for = 0.3  # a minute by default; set before the drop, which starts the clock
    c.send("go")
    assert c.recv() == "a"
    srv.stop()  # nothing to reconnect to
    with pytest.raises(websockets.ConnectionClosedOK):
        c.recv()
    started = time.monotonic()
    with pytest.raises(websockets.ConnectionClosed):  # waited while it redialled, then the drop again
        c.recv(timeout=10)
    assert time.monotonic() - started < 5
    assert any("gave up" in r.info for r in c.log.records if r.opcode == "ERROR")


def test_after_a_give_up_and_a_manual_reconnect_a_recv_in_the_gap_waits_again():
    import itertools

    import websockets

    connections = itertools.count()

    async def hello_then_drop_on_request(ws):
        await ws.send(f"hello {next(connections)}")
        await ws.recv()
        await ws.close()

    srv = wskit.Server(hello_then_drop_on_request)
    port = srv.port
    c = wskit.connect(srv.url, reconnect=True)
    c._core.reconnect_for = 0.3
    assert c.recv() == "hello 0"
    srv.stop()
    with pytest.raises(websockets.ConnectionClosed):
        c.recv()
    with pytest.raises(websockets.ConnectionClosed):  # it gave up: the drop again
        c.recv(timeout=10)
    srv = wskit.Server(hello_then_drop_on_request, port=port)
    c.reconnect()
    assert c.recv() == "hello 1"
    c.send("drop")
    with pytest.raises(websockets.ConnectionClosedOK):
        c.recv()
    assert c.recv(timeout=5) == "hello 2"  # waited for the redial, as before the give-up


def test_stopping_an_async_client_between_the_drop_and_the_reconnection_stops_redialling():
    srv = wskit.Server(_first_connection_sends())  # the first connection closes at once; later ones stay

    async def cell():
        c = await wskit.aconnect(srv.url, reconnect=True)
        while not c.closed:  # dropped: the client redials after a backoff
            await asyncio.sleep(0.005)
        c.stop()  # as a re-run of the cell (same name) or stop_all() does
        await asyncio.sleep(0.5)  # longer than the first backoffs
        return c

    c = asyncio.run(cell())
    assert c._core.connect_count == 1 and c._core._watcher.done()
    assert wskit.live_objects() == [srv]


def test_stop_all_from_another_thread_ends_a_recv_that_waits_for_ever():
    import threading

    import websockets

    srv = wskit.EchoServer()
    c = wskit.connect(srv.url)
    c.send("one")
    assert c.recv() == "one"  # reading ahead from now on
    outcome = {}

    def waits():
        try:
            outcome["value"] = c.recv(timeout=None)
        except BaseException as exc:  # what it raised is the point
            outcome["error"] = exc

    thread = threading.Thread(target=waits, daemon=True)
    thread.start()
    time.sleep(0.2)
    wskit.stop_all()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), websockets.ConnectionClosedOK)
