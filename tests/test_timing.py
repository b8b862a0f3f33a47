"""wskit.timing: percentiles, the measurements, and the plots."""

from __future__ import annotations

import threading
from typing import ClassVar

import matplotlib

matplotlib.use("Agg")

import pytest

import wskit
from wskit import timing
from wskit.timing import Stats, percentile

pytestmark = pytest.mark.usefixtures("clean_kit")


def test_percentile_matches_linear_interpolation():
    data = [1.0, 2.0, 3.0, 4.0]
    assert percentile(data, 0) == 1.0 and percentile(data, 100) == 4.0
    assert percentile(data, 50) == 2.5
    assert percentile(data, 90) == pytest.approx(3.7)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_stats_summarise_and_print_in_milliseconds():
    stats = Stats.from_samples("demo", [0.003, 0.001, 0.002])
    assert (stats.count, stats.min, stats.p50, stats.max) == (3, 0.001, 0.002, 0.003)
    assert stats.mean == pytest.approx(0.002)
    assert stats.samples == (0.003, 0.001, 0.002)  # in the order taken
    text = str(stats)
    assert "p99" in text and "demo" in text and "2.000" in text
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


def test_measurements_are_bounded_when_the_echo_never_comes():
    """A server that swallows messages: rtt and throughput stop with TimeoutError instead of hanging."""
    import time

    async def swallow(ws):
        async for _ in ws:
            pass

    srv = wskit.Server(swallow)
    c = wskit.connect(srv.url)
    for measure in (lambda: timing.rtt(c, count=5, warmup=0, progress=False, timeout=0.5),
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
    with wskit.connect(srv.url) as client:
        timing.rtt(client, count=300, progress=True)
    load.run(srv.url, phases=[load.Phase(1, 5)], messages=5, rate=20, progress=True)
    rtt_bar, load_bar = (bar for bar in _RecordingBar.made if not bar.disable)
    assert rtt_bar.n == rtt_bar.total and load_bar.n == load_bar.total == 25
    assert rtt_bar.threads | load_bar.threads == {threading.current_thread().name}
