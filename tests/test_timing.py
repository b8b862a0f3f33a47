"""wskit.timing: percentiles, the measurements, and the plots."""

from __future__ import annotations

import math
import threading
from typing import ClassVar

import matplotlib

matplotlib.use("Agg")

import pytest

import wskit
from wskit import timing
from wskit.timing import Histogram, Stats

pytestmark = pytest.mark.usefixtures("clean_kit")


def test_histogram_percentiles_are_nearest_rank_to_its_digits():
    """pN: the smallest recorded value with at least N % of the samples at or under it (notebook 01's definition)."""
    histogram = Histogram(unit=1e-6, longest=10.0, digits=2)
    assert math.isnan(histogram.percentile(50))  # nothing recorded yet
    for ms in range(1, 101):  # 1 .. 100 ms
        histogram.record(ms / 1000)
    for q, rank in ((1, 1), (50, 50), (90, 90), (99, 99), (100, 100)):
        assert rank / 1000 <= histogram.percentile(q) <= rank / 1000 * 1.01  # that sample, within 2 digits (1 %)
    histogram.record(3600.0)  # beyond `longest`: counted as the longest, not lost
    histogram.record(-1.0)  # a clock step backwards: counted as one unit
    assert histogram.get_total_count() == 102
    assert histogram.percentile(100) == pytest.approx(10.0, rel=0.01)
    fine = Histogram(unit=1e-9, longest=1.0, digits=3)
    fine.record(0.000123456)
    assert fine.percentile(50) == pytest.approx(0.000123456, rel=1e-3)


def test_stats_summarise_and_print_in_milliseconds():
    stats = Stats.from_samples("demo", [0.003, 0.001, 0.002])
    assert (stats.count, stats.min, stats.max) == (3, 0.001, 0.003)
    assert stats.p50 == pytest.approx(0.002, rel=1e-3)  # the middle sample, to 3 significant digits
    assert stats.p90 == stats.p99 == stats.max  # the top sample, and never above the max
    assert stats.mean == pytest.approx(0.002)
    assert stats.samples == (0.003, 0.001, 0.002)  # in the order taken
    text = str(stats)
    assert "p99" in text and "demo" in text and "1.000" in text and "3.000" in text
    with pytest.raises(ValueError, match="no samples"):
        Stats.from_samples("empty", [])


def test_rtt_on_websocket_tcp_and_http():
    srv = wskit.EchoServer()
    client = wskit.connect(srv.url)
    ws = timing.rtt(client, count=30, progress=False)
    tcp = timing.rtt(wskit.TCPEchoServer(), count=30)
    http = timing.rtt(wskit.PushServer(), count=30)
    for stats in (ws, tcp, http):
        assert stats.count == 30 and 0 < stats.min <= stats.p50 <= stats.p99 <= stats.max < 1
    assert len(client.log.messages("sent")) == 30 + 20  # timed + warm-up, all logged
    with pytest.raises(TypeError, match="rtt"):
        timing.rtt("ws://nowhere")


def test_size_sweep_and_throughput():
    srv = wskit.EchoServer(max_size=None)
    client = wskit.connect(srv.url, max_size=None)
    results = timing.size_sweep(client, sizes=(64, 65536), count=5, progress=False)
    assert [r.size for r in results] == [64, 65536]
    assert all(r.bytes_per_second > 0 and r.rtt.count == 5 for r in results)
    assert client.log.messages("received")[-1].size == 65536


def test_push_comparison_delivers_every_event_on_every_transport():
    push = wskit.PushServer()
    results = timing.push_comparison(push, events=8, interval=0.01, poll_interval=0.03, progress=False)
    by_name = {r.transport: r for r in results}
    assert list(by_name) == ["short polling", "long polling", "Server-Sent Events", "WebSocket"]
    assert all(r.latency.count == 8 for r in results)
    assert by_name["WebSocket"].requests == by_name["Server-Sent Events"].requests == 1
    assert by_name["long polling"].requests >= 8  # one request per event at least
    # Polling pays a request and a response head for (nearly) every event.
    assert by_name["long polling"].bytes_per_event > 2 * by_name["Server-Sent Events"].bytes_per_event


def test_plots_draw_what_they_are_given():
    a = Stats.from_samples("a", [0.001, 0.002, 0.003])
    b = Stats.from_samples("b", [0.002, 0.004])
    assert len(timing.plot_histogram(a, b).patches) > 0
    ax = timing.plot_cdf(a, b)
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    sizes = [timing.SizeResult(64, a, 1e6), timing.SizeResult(1024, b, 2e6)]
    assert len(timing.plot_sizes(sizes).get_lines()) == 1
    log = wskit.TrafficLog()
    log.add("sent", "TEXT", data="x", size=1)
    log.add("received", "TEXT", data="x", size=1)
    assert timing.plot_timeline(log).get_yticklabels()[0].get_text() == "sent"


def test_compression_cuts_bytes_of_repetitive_messages():
    messages = [f'{{"symbol": "ACME", "price": {100 + i % 5}, "note": "{"same text " * 20}"}}' for i in range(30)]
    costs = {}
    for compression in (None, "deflate"):
        srv = wskit.EchoServer(compression=compression)
        client = wskit.connect(srv.url, compression=compression)
        costs[compression] = timing.cost(client, messages)
        deflated = client.handshake.response.headers.get("Sec-WebSocket-Extensions")
        assert (deflated is not None) == (compression == "deflate")
    plain, deflate = costs[None], costs["deflate"]
    assert plain.messages == deflate.messages == 30
    assert plain.bytes_per_message > sum(len(m) for m in messages) / 30  # payload + headers, both ways
    assert deflate.wire_bytes < plain.wire_bytes / 3
    assert plain.cpu_seconds > 0 and deflate.cpu_seconds > 0


def test_diagrams_use_real_header_sizes():
    from wskit import diagrams

    layers = diagrams.encapsulation(b"hello", client=True)
    assert [layer.name for layer in layers] == ["Ethernet", "IPv4", "TCP", "WebSocket frame", "application payload"]
    assert layers[3].header == 6 and layers[-1].header == 5  # 2 + 4-byte mask; the payload
    server = diagrams.encapsulation(bytes(200), client=False, tls=True)
    assert [layer.header for layer in server][-3:] == [5, 4, 200]  # TLS record, 2 + 16-bit length, payload
    assert diagrams.draw_layers() is not None
    ax = diagrams.draw_encapsulation(layers)
    assert "5 bytes of message, 81 bytes on the wire" in ax.get_title()  # 14+4, 20, 32, 6, 5


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_measurements_are_bounded_when_the_echo_never_comes():
    """A server that swallows messages: rtt (on any transport) and throughput stop with TimeoutError, not hang."""
    import asyncio
    import time

    async def swallow(ws):
        async for _ in ws:
            pass

    async def swallow_event(sid, data):
        await asyncio.sleep(5)  # no acknowledgement within the 0.5 s bound

    srv = wskit.Server(swallow)
    c = wskit.connect(srv.url)
    mute = wskit.SocketIOServer()
    mute.on("echo")(swallow_event)
    quiet = wskit.SocketIOClient(mute.url)
    for measure in (lambda: timing.rtt(c, count=5, warmup=0, progress=False, timeout=0.5),
                    lambda: timing.rtt(quiet, count=5, warmup=0, progress=False, timeout=0.5),
                    lambda: timing.throughput(c, size=64, count=5, timeout=0.5)):
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"nothing completed within 0\.5 s"):
            measure()
        assert time.monotonic() - started < 3
    c.send("still usable")  # the client is not left with a receive running


def test_timing_uses_no_private_hook_of_live():
    import inspect

    source = inspect.getsource(timing)
    assert "_traffic" not in source


class _RecordingBar:
    """A stand-in for tqdm that notes the thread of every update."""

    made: ClassVar[list[_RecordingBar]] = []

    def __init__(self, *args, total=None, disable=False, **kwargs):
        self.total, self.disable, self.n, self.threads = total, disable, 0, set()
        _RecordingBar.made.append(self)

    def update(self, n=1):
        self.threads.add(threading.current_thread().name)
        self.n += n

    def close(self):
        pass


@pytest.mark.usefixtures("clean_kit")
def test_progress_bars_are_drawn_on_the_cells_thread_never_the_loops(monkeypatch):
    """A progress bar is a widget in a notebook, and widgets are never touched from the wskit loop thread."""
    from wskit import load

    monkeypatch.setattr(timing, "tqdm", _RecordingBar)
    monkeypatch.setattr(load, "tqdm", _RecordingBar)
    _RecordingBar.made.clear()
    srv = wskit.EchoServer()
    sio_server = wskit.SocketIOServer()

    @sio_server.on("echo")
    async def echo(sid, data):
        return data

    with wskit.connect(srv.url) as client:
        for target in (client, wskit.TCPEchoServer(), wskit.PushServer(), wskit.SocketIOClient(sio_server.url)):
            timing.rtt(target, count=200, warmup=5, progress=True)  # every transport, one measured loop
    load.run(srv.url, phases=[load.Phase(1, 5)], messages=5, rate=20, progress=True)
    *rtt_bars, load_bar = (bar for bar in _RecordingBar.made if not bar.disable)
    assert [bar.n for bar in rtt_bars] == [bar.total for bar in rtt_bars] == [205] * 4
    assert load_bar.n == load_bar.total == 25
    assert set().union(*(bar.threads for bar in [*rtt_bars, load_bar])) == {threading.current_thread().name}


def test_rtt_async_times_bare_clients_with_the_same_loop():
    """The benchmark's way in: a bare websockets connection and a python-socketio client, timed on the loop."""
    import socketio
    from websockets.asyncio.client import connect

    from wskit.live import loop

    srv, tcp = wskit.EchoServer(), wskit.TCPEchoServer()
    sio_server = wskit.SocketIOServer()

    @sio_server.on("echo")
    async def echo(sid, data):
        return data

    async def measure():
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(sio_server.url, transports=["websocket"])
        try:
            async with connect(srv.url) as ws:
                return [await timing.rtt_async(target, count=10, size=64, binary=True, warmup=2)
                        for target in (ws, sio, tcp)]
        finally:
            await sio.disconnect()

    results = loop.run(measure(), timeout=30)
    assert [(s.name, s.count) for s in results] == [("WebSocket 64 B", 10), ("Socket.IO call 64 B", 10),
                                                   ("raw TCP 64 B", 10)]
    assert srv.log.bytes_received > 12 * 64  # the bare connection's frames reached the wskit server
