"""Measure what the course claims: round trips, throughput, push latency, bytes.

Every measurement runs on the wskit loop thread, next to the sockets, so the
cell's own thread hops are not counted. Results are :class:`Stats` (seconds
inside, milliseconds when shown) that keep their samples for plotting.

Every measurement is bounded and interruptible: it stops with ``TimeoutError``
when nothing completes for ``timeout`` seconds (10 by default), and an
interrupted cell stops it on the loop within a second, answers still in flight
drained, so the next measurement on the same client starts clean.

Round trips are timed by one loop, whatever the transport (:func:`rtt` from a
cell, :func:`rtt_async` on the loop, as ``benchmarks/echo_rtt.py`` does): each
transport only says how to open its connection and how to make one echo.

Percentiles, here and in :mod:`wskit.load`, come from one place, a
:class:`Histogram` (HdrHistogram, the ``hdrh`` library): the p-th percentile is
the smallest recorded value that p % of the samples are at or under (nearest
rank, the definition of notebook 01), kept to a fixed number of significant
digits whatever the magnitude. A load run cannot keep every sample, so a
histogram is its only record; a :class:`Stats` keeps its samples too (for
plots, and its exact min, max and mean) but reads its percentiles from the
same kind of histogram, so that a p99 means the same everywhere.

>>> import wskit
>>> from wskit import timing
>>> srv = wskit.EchoServer(); c = wskit.connect(srv.url)
>>> stats = timing.rtt(c, count=50)
>>> stats.count
50
>>> wskit.stop_all()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import socketio
from tqdm.auto import tqdm
from websockets.asyncio.connection import Connection

from .histogram import Histogram
from .live import loop as _loop
from .live.baseline import HTTPClient, PushServer, TCPEchoServer
from .live.client import Client, logged_connect
from .live.log import TrafficLog
from .live.sio import SocketIOClient

T = TypeVar("T")

__all__ = [
    "Histogram",
    "Stats",
    "rtt",
    "rtt_async",
    "throughput",
    "SizeResult",
    "size_sweep",
    "PushResult",
    "push_comparison",
    "Cost",
    "cost",
    "room_latency",
    "plot_histogram",
    "plot_cdf",
    "plot_sizes",
    "plot_timeline",
]


@dataclasses.dataclass(frozen=True)
class Stats:
    """Summary of timing samples, in seconds; shown in milliseconds.

    Attributes:
        name: what was measured.
        count, min, p50, p90, p99, max, mean: the usual summary. Min, max and mean are exact; the percentiles
            are a :class:`Histogram`'s (nanoseconds, 3 significant digits: within 0.1 %), never above the max.
        samples: every sample, in the order taken (for plots).
    """

    name: str
    count: int
    min: float
    p50: float
    p90: float
    p99: float
    max: float
    mean: float
    samples: tuple[float, ...] = dataclasses.field(repr=False, default=())

    @classmethod
    def from_samples(cls, name: str, samples: Iterable[float]) -> Stats:
        """Summarise ``samples`` (seconds)."""
        taken = tuple(samples)
        if not taken:
            raise ValueError(f"{name}: no samples to summarise")
        histogram = Histogram(unit=1e-9, longest=3600.0, digits=3)
        for sample in taken:
            histogram.record(sample)
        low, high = min(taken), max(taken)
        p50, p90, p99 = (min(high, value) for value in histogram.percentiles(50, 90, 99))
        return cls(name, len(taken), low, p50, p90, p99, high, sum(taken) / len(taken), taken)

    COLUMNS = ("count", "min", "p50", "p90", "p99", "max", "mean")

    def row(self, width: int = 24) -> str:
        values = "".join(f"{getattr(self, c) * 1000:9.3f}" for c in self.COLUMNS[1:])
        return f"{self.name:<{width}}{self.count:>7}{values}"

    @staticmethod
    def table(*stats: Stats) -> str:
        """Several results as one plain-text table, in milliseconds."""
        width = max([24, *(len(s.name) + 2 for s in stats)])
        head = f"{'ms':<{width}}{'count':>7}" + "".join(f"{c:>9}" for c in Stats.COLUMNS[1:])
        return "\n".join([head, *(s.row(width) for s in stats)])

    def __str__(self) -> str:
        return self.table(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _payload(size: int, binary: bool) -> str | bytes:
    if binary:
        return bytes(i % 251 for i in range(size))
    return ("0123456789abcdef" * (size // 16 + 1))[:size]


def _bar(total: int, description: str, progress: bool) -> tqdm:
    return tqdm(total=total, desc=description, disable=not progress, leave=False)


DEFAULT_TIMEOUT = 10.0
"""Seconds a measurement may go without completing one step before it stops with ``TimeoutError``."""


class _Progress:
    """Steps completed so far, read by :func:`_bounded` to tell a slow run from a stuck one."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0


async def _bounded(work: Awaitable[T], progress: _Progress, timeout: float | None, what: str) -> T:
    """Await ``work`` (on the loop) as long as it completes a step at least every ``timeout`` seconds."""
    task = asyncio.ensure_future(work)
    try:
        last = -1
        while True:
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if done:
                return task.result()
            if progress.steps == last:
                raise TimeoutError(f"{what}: nothing completed within {timeout} s")
            last = progress.steps
    finally:
        if not task.done():  # interrupted or stuck: stop the work, let it clean up (bounded)
            task.cancel()
            await asyncio.wait({task}, timeout=_loop.CANCEL_GRACE * 0.8)


def _run(work: Awaitable[T], progress: _Progress, timeout: float | None, what: str, bar: Any = None) -> T:
    """Run a measurement on the loop from a cell: bounded by lack of progress, stopped by an interrupt.

    The work counts its steps; ``bar`` (a progress bar, a widget in a notebook) is moved on the cell's own
    thread, never on the loop's.
    """
    tick = None if bar is None else lambda: bar.update(max(0, progress.steps - bar.n))
    return _loop.run(_bounded(work, progress, timeout, what), timeout=None, tick=tick)


async def _drain(ws: Any, outstanding: int, within: float = 0.6) -> None:
    """Read the ``outstanding`` echoes still in flight (at most ``within`` s), so the next user starts clean."""
    try:
        async with asyncio.timeout(within):
            for _ in range(outstanding):
                await ws.recv()
    except (TimeoutError, Exception):
        pass


def _connection(client: Client) -> Connection:
    """The open WebSocket connection of a wskit client, or a clear error."""
    client._check_live()
    if client.connection is None:
        raise RuntimeError("the client is not connected")
    return client.connection


# --- round trips: one measured loop, a set-up per transport ------------------------------------------------------

Echo = Callable[[], Awaitable[Any]]
"""One round trip: send the message, wait for its echo."""


@contextlib.asynccontextmanager
async def _websocket_echo(ws: Connection, message: str | bytes) -> AsyncIterator[Echo]:
    outstanding = 0

    async def once() -> None:
        nonlocal outstanding
        await ws.send(message)
        outstanding += 1
        await ws.recv()
        outstanding -= 1

    try:
        yield once
    except asyncio.CancelledError:  # interrupted: read the echo still in flight, so the next call gets its own
        await _drain(ws, outstanding)
        raise


@contextlib.asynccontextmanager
async def _tcp_echo(server: TCPEchoServer, data: bytes) -> AsyncIterator[Echo]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    _loop.read_small(writer.transport)  # as the kit's WebSocket clients read: a fair baseline

    async def once() -> None:
        writer.write(data)
        await reader.readexactly(len(data))

    try:
        yield once
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def _http_echo(server: PushServer, body: bytes) -> AsyncIterator[Echo]:
    async with HTTPClient(server.http_url) as client:

        async def once() -> None:
            await client.request("POST", "/echo", body)

        yield once


RTTTarget = Client | SocketIOClient | TCPEchoServer | PushServer | Connection | socketio.AsyncClient


def _echo(target: RTTTarget, message: str | bytes,
          event: str) -> tuple[str, Callable[[], AbstractAsyncContextManager[Echo]]]:
    """The per-transport part of :func:`rtt`: its name, and how to open it (on the loop) for one echo at a time.

    Checked at once, in the caller's thread: a wrong target fails before anything runs on the loop.
    """
    raw = message if isinstance(message, bytes) else message.encode()
    if isinstance(target, Client):
        ws = _connection(target)
        return "WebSocket", lambda: _websocket_echo(ws, message)
    if isinstance(target, Connection):
        return "WebSocket", lambda: _websocket_echo(target, message)
    if isinstance(target, TCPEchoServer):
        return "raw TCP", lambda: _tcp_echo(target, raw)
    if isinstance(target, PushServer):
        return "HTTP POST", lambda: _http_echo(target, raw)
    if isinstance(target, SocketIOClient):
        target._check_live()
        target = target.sio
    if isinstance(target, socketio.AsyncClient):
        call = functools.partial(target.call, event, message, timeout=None)  # bounded, as every transport, by rtt
        return "Socket.IO call", lambda: contextlib.nullcontext(call)
    raise TypeError(
        f"rtt() measures a wskit Client, SocketIOClient, TCPEchoServer or PushServer (or, on the loop, a websockets "
        f"connection or a python-socketio AsyncClient); got {type(target).__name__}"
    )


def _round_trips(target: RTTTarget, *, count: int, size: int, binary: bool, warmup: int, name: str | None,
                 event: str, steps: _Progress) -> tuple[str, Coroutine[Any, Any, Stats]]:
    """The one measured loop of :func:`rtt` and :func:`rtt_async`: its name, and the work to run on the loop.

    The transport's set-up opens what it needs; ``warmup`` untimed round trips, then ``count`` timed ones, each
    counted in ``steps`` (for the bound and the progress bar).
    """
    kind, opened = _echo(target, _payload(size, binary), event)
    label = name or f"{kind} {size} B"

    async def measure() -> Stats:
        samples = []
        async with opened() as once:
            for _ in range(warmup):
                await once()
                steps.steps += 1
            for _ in range(count):
                started = time.perf_counter()
                await once()
                samples.append(time.perf_counter() - started)
                steps.steps += 1
        return Stats.from_samples(label, samples)

    return label, measure()


def rtt(
    target: Client | SocketIOClient | TCPEchoServer | PushServer,
    *,
    count: int = 200,
    size: int = 32,
    binary: bool = False,
    warmup: int = 20,
    name: str | None = None,
    progress: bool = True,
    event: str = "echo",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Stats:
    """Round-trip times of ``size``-byte echoes.

    Args:
        target: a connected wskit client (of an echo server), a
            :class:`SocketIOClient` (a call of ``event`` whose acknowledgement
            returns the data), a :class:`TCPEchoServer` (raw TCP, on a
            connection of its own), or a :class:`PushServer` (HTTP
            ``POST /echo`` on one kept-alive connection).
        count: timed round trips.
        size: payload bytes.
        binary: binary messages instead of text (WebSocket frames; Socket.IO attachments).
        warmup: untimed round trips first.
        name: the name in the result (default: the transport).
        progress: a progress bar (from 200 round trips), drawn on the cell's thread, whatever the transport.
        event: the Socket.IO event to call.
        timeout: stop with ``TimeoutError`` when no round trip completes for
            this many seconds (``None``: never).

    An interrupted cell stops the round trips on the loop within a second; the
    echo still in flight is read, so the client's next call gets its own reply.
    """
    steps = _Progress()
    label, work = _round_trips(target, count=count, size=size, binary=binary, warmup=warmup, name=name,
                               event=event, steps=steps)
    bar = _bar(count + warmup, label, progress and count >= 200)
    try:
        return _run(work, steps, timeout, label, bar)
    finally:
        bar.close()


async def rtt_async(
    target: RTTTarget,
    *,
    count: int = 200,
    size: int = 32,
    binary: bool = False,
    warmup: int = 20,
    name: str | None = None,
    event: str = "echo",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Stats:
    """:func:`rtt` for code already on the event loop of its connections (no progress bar).

    Besides :func:`rtt`'s targets it takes a bare ``websockets`` connection or a python-socketio
    ``AsyncClient``, so that a benchmark can time other clients with the very same loop.
    """
    steps = _Progress()
    label, work = _round_trips(target, count=count, size=size, binary=binary, warmup=warmup, name=name,
                               event=event, steps=steps)
    return await _bounded(work, steps, timeout, label)


def throughput(client: Client, *, size: int, count: int = 100, binary: bool = True,
               timeout: float | None = DEFAULT_TIMEOUT) -> float:
    """Bytes per second echoed with ``count`` messages of ``size`` bytes in flight at once.

    Stops with ``TimeoutError`` when no echo comes back for ``timeout`` seconds; an
    interrupt stops the sender and drains the echoes in flight (bounded) on the loop.
    """
    ws = _connection(client)
    message = _payload(size, binary)
    steps = _Progress()

    async def measure() -> float:
        started = time.perf_counter()
        sent = 0

        async def sender() -> None:
            nonlocal sent
            for _ in range(count):
                sent += 1  # counted first: a send cancelled while it waits to drain has gone out already
                await ws.send(message)

        sending = asyncio.create_task(sender())
        try:
            for _ in range(count):
                await ws.recv()
                steps.steps += 1
            await sending
        except BaseException:
            sending.cancel()
            await asyncio.wait({sending}, timeout=0.2)
            await _drain(ws, sent - steps.steps)
            raise
        return size * count / (time.perf_counter() - started)

    return _run(measure(), steps, timeout, "throughput")


@dataclasses.dataclass(frozen=True)
class SizeResult:
    """Latency and throughput at one message size."""

    size: int
    rtt: Stats
    bytes_per_second: float


def size_sweep(
    client: Client,
    sizes: Iterable[int] = (64, 1024, 16 * 1024, 256 * 1024, 1024 * 1024),
    *,
    count: int = 30,
    progress: bool = True,
) -> list[SizeResult]:
    """:func:`rtt` and :func:`throughput` at each size (binary messages)."""
    sizes = list(sizes)
    results = []
    for size in tqdm(sizes, desc="message sizes", disable=not progress, leave=False):
        stats = rtt(client, count=count, size=size, binary=True, warmup=3, progress=False,
                    name=f"{size:,} B")
        results.append(SizeResult(size, stats, throughput(client, size=size, count=max(4, count // 2))))
    return results


@dataclasses.dataclass(frozen=True)
class PushResult:
    """How one transport delivered the same events.

    Attributes:
        transport: its name.
        latency: from publishing an event to the client having it.
        bytes_per_event: bytes on the wire, both directions, per event delivered.
        requests: HTTP requests made (1 for a stream or a WebSocket handshake).
    """

    transport: str
    latency: Stats
    bytes_per_event: float
    requests: int


async def _poll(server: PushServer, want: int, got: Callable[[int], None], path: str,
                interval: float = 0.0) -> tuple[int, int]:
    """Ask ``path`` (``/poll``: answered at once; ``/wait``: held until there is news) until ``want`` arrived."""
    async with HTTPClient(server.http_url) as client:
        after = len(server.events)
        while after < want:
            response = await client.request("GET", f"{path}?after={after}")
            for event in json.loads(response.body)["events"]:
                got(event["id"])
                after = event["id"]
            if interval and after < want:
                await asyncio.sleep(interval)
        return client.bytes_sent + client.bytes_received, client.requests


async def _sse(server: PushServer, want: int, got: Callable[[int], None]) -> tuple[int, int]:
    async with HTTPClient(server.http_url) as client:
        async for ident, _data in client.events(f"/events?after={len(server.events)}"):
            got(ident)
            if ident >= want:
                break
        return client.bytes_sent + client.bytes_received, client.requests


async def _websocket(server: PushServer, want: int, got: Callable[[int], None]) -> tuple[int, int]:
    log = TrafficLog(maxlen=0)
    url = f"{server.ws_url}?after={len(server.events)}"
    async with logged_connect(url, log, compression=None) as ws:
        while True:
            ident = json.loads(await ws.recv())["id"]
            got(ident)
            if ident >= want:
                break
    return log.bytes_sent + log.bytes_received, 1


def push_comparison(
    server: PushServer,
    *,
    events: int = 40,
    interval: float = 0.02,
    poll_interval: float = 0.05,
    size: int = 64,
    progress: bool = True,
) -> list[PushResult]:
    """Publish the same events to each transport in turn; measure delivery.

    For each of short polling (every ``poll_interval`` s), long polling,
    Server-Sent Events and WebSocket: a client connects, ``events`` events
    of ``size`` bytes are published ``interval`` s apart, and each event's
    delivery latency and the bytes the transport used are recorded.
    """
    payload = "x" * size
    transports: list[tuple[str, Callable[[int, Callable[[int], None]], Awaitable[tuple[int, int]]]]] = [
        ("short polling", lambda want, got: _poll(server, want, got, "/poll", poll_interval)),
        ("long polling", lambda want, got: _poll(server, want, got, "/wait")),
        ("Server-Sent Events", lambda want, got: _sse(server, want, got)),
        ("WebSocket", lambda want, got: _websocket(server, want, got)),
    ]
    results = []
    for transport, client in tqdm(transports, desc="transports", disable=not progress, leave=False):

        async def measure(client: Callable[..., Awaitable[tuple[int, int]]] = client) -> tuple[list[float], int, int]:
            first = len(server.events) + 1
            want = first + events - 1
            arrived: dict[int, float] = {}
            consumer = asyncio.create_task(client(want, lambda ident: arrived.setdefault(ident, time.perf_counter())))
            try:
                await asyncio.sleep(0.05)  # let the client connect before the first event
                for _ in range(events):
                    await server.apublish(payload)
                    await asyncio.sleep(interval)
                wire, requests = await asyncio.wait_for(consumer, 30)
            finally:  # interrupted: the consumer must not go on polling in the background
                if not consumer.done():
                    consumer.cancel()
                    await asyncio.wait({consumer}, timeout=0.5)
            latencies = [arrived[i] - server.events[i - 1].time for i in range(first, want + 1)]
            return latencies, wire, requests

        latencies, wire, requests = _loop.run(measure(), timeout=60)
        results.append(PushResult(transport, Stats.from_samples(transport, latencies), wire / events, requests))
    return results


@dataclasses.dataclass(frozen=True)
class Cost:
    """What an exchange of messages cost: bytes on the wire and CPU time.

    Attributes:
        messages: messages echoed.
        wire_bytes: bytes on the wire, both directions, frame headers included
            (the handshake is left out).
        cpu_seconds: CPU time of this process (client and server both run here).
    """

    messages: int
    wire_bytes: int
    cpu_seconds: float

    @property
    def bytes_per_message(self) -> float:
        return self.wire_bytes / self.messages


def cost(client: Client, messages: Sequence[str | bytes]) -> Cost:
    """Echo each message through ``client``'s connection; count the bytes and the CPU it took."""
    ws = _connection(client)
    log = client.log
    steps = _Progress()

    async def measure() -> Cost:
        before = log.bytes_sent + log.bytes_received
        cpu = time.process_time()
        outstanding = 0
        try:
            for message in messages:
                await ws.send(message)
                outstanding = 1
                await ws.recv()
                outstanding = 0
                steps.steps += 1
        except asyncio.CancelledError:
            await _drain(ws, outstanding)
            raise
        return Cost(len(messages), log.bytes_sent + log.bytes_received - before, time.process_time() - cpu)

    return _run(measure(), steps, DEFAULT_TIMEOUT, "cost")


def room_latency(sender: SocketIOClient, receiver: SocketIOClient, room: str, *, count: int = 100,
                 name: str | None = None) -> Stats:
    """From one client's ``say`` to another's ``said``, through the course's chat app (:mod:`wskit.live.sio_app`).

    Both clients must have joined ``room``. Each message waits for the last, so this is latency, not
    throughput; across processes it includes the trip through the broker.
    """
    steps = _Progress()

    async def measure() -> list[float]:
        loop = asyncio.get_running_loop()
        waiting: dict[str, asyncio.Future[float]] = {}

        async def said(data: dict) -> None:
            future = waiting.get(str(data.get("text")))
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

        receiver.sio.on("said", said)
        try:
            samples = []
            for i in range(count):
                tag = f"latency #{i}"
                arrival = waiting[tag] = loop.create_future()
                started = time.perf_counter()
                await sender.sio.emit("say", (room, tag, started))
                samples.append(await asyncio.wait_for(arrival, 10) - started)
                steps.steps += 1
                del waiting[tag]
            return samples
        finally:
            receiver.sio.handlers.get("/", {}).pop("said", None)

    return Stats.from_samples(name or f"room broadcast to {room!r}",
                              _run(measure(), steps, DEFAULT_TIMEOUT, "room latency"))


# --- plots ------------------------------------------------------------------------------


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4))
    return ax


def plot_histogram(*stats: Stats, ax: Any = None, bins: int = 40, log_y: bool = False) -> Any:
    """Histogram of each result's samples, in milliseconds.

    Args:
        stats: the results.
        ax: the matplotlib axes to draw on (a new figure if ``None``).
        bins: how many bars.
        log_y: count on a log scale, so that the few slow samples of the tail stay visible next to the many
            typical ones.
    """
    ax = _axes(ax)
    for s in stats:
        ax.hist([x * 1000 for x in s.samples], bins=bins, alpha=0.6, label=f"{s.name} (p50 {s.p50 * 1000:.3f} ms)")
    ax.set_xlabel("round-trip time (ms)")
    ax.set_ylabel("count (log scale)" if log_y else "count")
    if log_y:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_cdf(*stats: Stats, ax: Any = None, log_x: bool = True) -> Any:
    """Cumulative distribution (CDF) of each result's samples: the share of samples at or under each time.

    The x-axis is logarithmic by default, so that a tail ten or a hundred times the median stays on the page
    without squeezing the typical samples into one vertical line. Each curve's p50 (a circle) and p99 (a diamond)
    are marked on it, with their values.

    Args:
        stats: the results.
        ax: the matplotlib axes to draw on (a new figure if ``None``).
        log_x: milliseconds on a log scale.
    """
    ax = _axes(ax)
    for s in stats:
        ordered = sorted(x * 1000 for x in s.samples)
        (line,) = ax.step(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], where="post", label=s.name)
        color = line.get_color()
        for share, value, marker in ((0.5, s.p50, "o"), (0.99, s.p99, "D")):
            ax.scatter([value * 1000], [share], marker=marker, s=45, color=color, edgecolors="black", zorder=3)
            ax.annotate(f"p{share * 100:g} {value * 1000:.3g} ms", (value * 1000, share), xytext=(6, -10),
                        textcoords="offset points", fontsize=8, color=color)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)" if log_x else "milliseconds")
    ax.set_ylabel("share of samples ≤ x")
    ax.set_yticks([0, 0.25, 0.5, 0.75, 0.99], ["0", "0.25", "0.5 (p50)", "0.75", "0.99 (p99)"])
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3, which="both" if log_x else "major")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_sizes(results: Sequence[SizeResult], ax: Any = None) -> Any:
    """Median round trip and throughput against message size (log-log)."""
    ax = _axes(ax)
    sizes = [r.size for r in results]
    ax.loglog(sizes, [r.rtt.p50 * 1000 for r in results], "o-", label="median round trip (ms)")
    ax.set_xlabel("message size (bytes)")
    ax.set_ylabel("round trip (ms)")
    twin = ax.twinx()
    megabytes = [r.bytes_per_second / 1e6 for r in results]
    twin.loglog(sizes, megabytes, "s--", color="tab:orange", label="throughput (MB/s)")
    twin.set_ylabel("throughput (MB/s)")
    ax.legend(loc="upper left")
    twin.legend(loc="lower right")
    return ax


def plot_timeline(log: TrafficLog, ax: Any = None) -> Any:
    """Each message of a traffic log on a time line, one row per direction."""
    ax = _axes(ax)
    sent = [r.time * 1000 for r in log.messages("sent")]
    received = [r.time * 1000 for r in log.messages("received")]
    ax.eventplot([sent, received], lineoffsets=[1, 0], linelengths=0.7, colors=["tab:blue", "tab:orange"])
    ax.set_yticks([1, 0], ["sent", "received"])
    ax.set_xlabel("milliseconds since the log started")
    return ax
