"""Load tests that tell the truth: phases of arriving clients, timed from the intended send time.

>>> import wskit
>>> from wskit import load
>>> srv = wskit.EchoServer()
>>> result = load.run(srv.url, phases=[load.Phase(1, 5)], messages=5, rate=20, progress=False)
>>> result.lost, result.out_of_order, result.errors
(0, 0, {})
>>> wskit.stop_all()

How it works, as in Artillery: each :class:`Phase` lasts ``duration`` seconds
during which virtual users arrive at ``arrival_rate`` a second (ramping
linearly to ``ramp_to`` if given). Each user connects, sends ``messages``
messages at ``rate`` a second, waits for every echo, and leaves.

Each message carries its user's id and a sequence number, and is timed from
the moment it was *meant* to be sent, not the moment it went out: when the
server (or this generator) falls behind, the delay shows up in the
latencies instead of silently lowering the load (no *coordinated omission*).
Latencies go into an HDR histogram (:class:`wskit.timing.Histogram`, the
kit's one way to compute percentiles: microseconds, 2 significant digits,
within 1 %) rather than a list of every sample, so memory stays flat however
long the run, and recording stays cheap on the generator's loop. Loads are
only sent to loopback addresses unless ``allow_remote=True``.

From a terminal: ``python -m wskit load ws://127.0.0.1:8765/ --phase 10:5:20``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import ipaddress
import json
import math
import socket
import struct
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from tqdm.auto import tqdm

from .histogram import Histogram
from .live import loop as _loop

__all__ = ["Phase", "LoadResult", "run", "run_async", "run_in_process"]

HEADER = struct.Struct("!IIQ")  # user id, sequence number, a tag that tells our messages from others
TAG = 0x5753_4B49_545F_4C44  # "WSKIT_LD"
LONGEST = 120.0  # seconds: the longest latency the histograms hold (longer ones count as this)


@dataclasses.dataclass(frozen=True)
class Phase:
    """``duration`` seconds of users arriving at ``arrival_rate`` a second (ramping to ``ramp_to``)."""

    duration: float
    arrival_rate: float
    ramp_to: float | None = None
    name: str = ""

    def arrivals(self) -> list[float]:
        """Arrival times of this phase's users, in seconds from the phase's start.

        The k-th user arrives when the expected number of arrivals, the
        integral of the (linearly ramping) rate, reaches k.
        """
        r0 = self.arrival_rate
        r1 = r0 if self.ramp_to is None else self.ramp_to
        slope = (r1 - r0) / self.duration
        total = r0 * self.duration + slope * self.duration**2 / 2
        times = []
        for k in range(1, int(total + 1e-9) + 1):
            # solve r0 t + slope t² / 2 = k (a plain division when the rate is constant)
            t = k / r0 if abs(slope) < 1e-12 else (-r0 + math.sqrt(r0 * r0 + 2 * slope * k)) / slope
            times.append(min(t, self.duration))
        return times


def _histogram() -> Histogram:
    return Histogram(unit=1e-6, longest=LONGEST, digits=2)  # microseconds


@dataclasses.dataclass
class LoadResult:
    """What a load run measured.

    Latencies are in milliseconds in every table and plot.

    Attributes:
        users, connected: users started, and those that connected.
        sent, received: messages sent and echoes received.
        lost: messages sent whose echo never came.
        out_of_order: echoes that came after a later message's echo (per user).
        errors: errors by kind, e.g. ``{"ConnectionRefusedError": 3}``.
        latency: histogram of latencies (a :class:`wskit.timing.Histogram` counting microseconds), from
            intended send time.
        connect: histogram of connect times (the same).
        seconds: per second of the run: ``(sent, received, p50 ms, p99 ms)``.
        duration: wall seconds of the whole run.
    """

    users: int = 0
    connected: int = 0
    sent: int = 0
    received: int = 0
    lost: int = 0
    out_of_order: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    latency: Histogram = dataclasses.field(default_factory=_histogram, repr=False)
    connect: Histogram = dataclasses.field(default_factory=_histogram, repr=False)
    seconds: list[tuple[int, int, float, float]] = dataclasses.field(default_factory=list, repr=False)
    duration: float = 0.0

    PERCENTILES = (50, 90, 95, 99, 99.9, 100)

    def percentile(self, q: float, of: str = "latency") -> float:
        """The ``q``-th percentile in milliseconds (``of``: ``"latency"`` or ``"connect"``; NaN if empty)."""
        return getattr(self, of).percentile(q) * 1000

    @property
    def throughput(self) -> float:
        """Echoes received per second of the run."""
        return self.received / self.duration if self.duration else 0.0

    def table(self) -> str:
        """A plain-text summary."""
        names = "".join(f"{'p' + format(q, 'g') if q < 100 else 'max':>9}" for q in self.PERCENTILES)
        rows = [
            f"users {self.users} (connected {self.connected}), {self.duration:.1f} s, "
            f"{self.throughput:,.0f} echoes/s",
            f"messages sent {self.sent}, received {self.received}, lost {self.lost}, "
            f"out of order {self.out_of_order}, errors {sum(self.errors.values())} {dict(self.errors) or ''}".rstrip(),
            f"{'ms':<10}{names}",
        ]
        for label, of in (("latency", "latency"), ("connect", "connect")):
            rows.append(f"{label:<10}" + "".join(f"{self.percentile(q, of):9.2f}" for q in self.PERCENTILES))
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.table())

    def check(
        self,
        *,
        p99_ms: float | None = None,
        max_lost: int = 0,
        max_out_of_order: int = 0,
        max_errors: int = 0,
    ) -> None:
        """Assert what a load test should: nothing lost or reordered, no errors, a bounded tail.

        Raises:
            AssertionError: naming every limit that was broken.
        """
        broken = []
        if self.lost > max_lost:
            broken.append(f"{self.lost} messages lost (allowed {max_lost})")
        if self.out_of_order > max_out_of_order:
            broken.append(f"{self.out_of_order} out of order (allowed {max_out_of_order})")
        errors = sum(self.errors.values())
        if errors > max_errors:
            broken.append(f"{errors} errors {dict(self.errors)} (allowed {max_errors})")
        if p99_ms is not None and not self.percentile(99) <= p99_ms:
            broken.append(f"p99 {self.percentile(99):.2f} ms over {p99_ms} ms")
        if broken:
            raise AssertionError("load test failed: " + "; ".join(broken))

    def plot(self) -> Any:
        """Latency over time, the percentile curve, and throughput, side by side."""
        import matplotlib.pyplot as plt

        fig, (over_time, curve, rate) = plt.subplots(1, 3, figsize=(15, 3.8))
        self._per_second(over_time, {"p50": 2, "p99": 3}, "latency (ms)", "Latency over time")
        qs = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99]
        curve.plot([100 / (100 - q) for q in qs], [self.percentile(q) for q in qs], "o-", label="percentiles")
        curve.plot([100_000], [self.percentile(100)], "s", color="tab:red", label="max")  # its own place, after 99.99
        curve.set_xscale("log")
        curve.set_xticks([1, 2, 10, 100, 1000, 10_000, 100_000], ["0", "50", "90", "99", "99.9", "99.99", "max"])
        curve.legend()
        curve.set_xlabel("percentile")
        curve.set_ylabel("latency (ms)")
        curve.set_title("Percentile curve: the tail")
        self._per_second(rate, {"sent": 0, "received": 1}, "messages per second", "Throughput")
        fig.tight_layout()
        return fig

    def _per_second(self, ax: Any, columns: dict[str, int], ylabel: str, title: str) -> None:
        """One panel of :meth:`plot`: columns of :attr:`seconds` (by label) against the second of the run."""
        for label, column in columns.items():
            ax.plot(range(len(self.seconds)), [s[column] for s in self.seconds], label=label)
        ax.set_xlabel("second of the run")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend()


class _Run:
    """The shared state of one run (everything on one event loop)."""

    def __init__(self, result: LoadResult, size: int, bar: Any) -> None:
        self.result = result
        self.size = max(size, HEADER.size)
        self.bar = bar
        self.started = time.perf_counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.stopping = False  # set when the run ends or is interrupted: every user stops at once
        self.open: set[Any] = set()  # the users' open connections, dropped if the run is interrupted
        self._second = _histogram()
        self._second_counts = [0, 0]
        self._second_index = 0

    def message(self, user: int, seq: int) -> bytes:
        return HEADER.pack(user, seq, TAG) + b"\0" * (self.size - HEADER.size)

    def _roll(self, now: float) -> None:
        index = int(now - self.started)
        while self._second_index < index:
            p50, p99 = (seconds * 1000 for seconds in self._second.percentiles(50, 99))
            self.result.seconds.append((self._second_counts[0], self._second_counts[1], p50, p99))
            self._second.reset()
            self._second_counts = [0, 0]
            self._second_index += 1

    def sent(self) -> None:
        self._roll(time.perf_counter())
        self.result.sent += 1
        self._second_counts[0] += 1

    def echoed(self, intended: float) -> None:
        now = time.perf_counter()
        self._roll(now)
        self.result.latency.record(now - intended)
        self._second.record(now - intended)
        self.result.received += 1
        self._second_counts[1] += 1
        self.bar.update(1)

    def finish(self) -> None:
        self._roll(time.perf_counter() + 1)


@functools.cache
def _echo_connection_class() -> type:
    """The connection class of a WebSocket user (made on first use: importing wskit.load stays light)."""
    from websockets.asyncio.client import ClientConnection
    from websockets.frames import Frame, Opcode

    text, binary, cont = Opcode.TEXT, Opcode.BINARY, Opcode.CONT

    class EchoConnection(ClientConnection):
        """A load-test user's connection: each data message goes to ``on_message`` in the callback in which
        websockets parsed it (``data_received``), with no message queue and no task to wake per echo (see
        :func:`_websocket_user`). Fragments are joined first; pings, pongs and closes are websockets' own."""

        on_message: Callable[[bytes | str], None] | None = None
        on_lost: Callable[[], None] | None = None
        _fragments: list[Any] | None = None

        def process_event(self, event: Any) -> None:
            if event.__class__ is not Frame or event.opcode not in (text, binary, cont):
                super().process_event(event)  # the handshake's response, or a control frame
                return
            on_message = self.on_message
            if on_message is None:  # before the user's first send (or after it ended): none of its echoes.
                return  # Not queued either: past 16 unread frames websockets would stop reading the socket
            if event.opcode is not cont:  # a message's first frame
                fragments = [event]
            elif self._fragments is not None:
                fragments = self._fragments
                fragments.append(event)
            else:
                return  # a continuation with nothing to continue: websockets' parser refuses it first
            if not event.fin:
                self._fragments = fragments
                return
            self._fragments = None
            data = b"".join(bytes(fragment.data) for fragment in fragments)
            on_message(data if fragments[0].opcode is binary else data.decode("utf-8", "replace"))

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            _loop.read_small(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            on_lost = self.on_lost
            if on_lost is not None:
                on_lost()

    return EchoConnection


async def _websocket_user(state: _Run, url: str, user: int, messages: int, rate: float, timeout: float) -> None:
    """One virtual user: connect, send ``messages`` at ``rate`` a second, match and time every echo, close.

    The sends are timer callbacks and the echoes are read in the callback that parsed them (``on_message``), so a
    message costs no task switch at all: this coroutine only connects, waits for the last echo (or the first
    error) and closes. Whatever the direct write cannot do (the transport is paused by flow control, or the
    connection is not open) falls back to ``await ws.send()`` for the rest of the messages, errors included.
    """
    from websockets.asyncio.client import connect
    from websockets.protocol import State

    started = time.perf_counter()
    try:
        ws = await asyncio.wait_for(connect(url, compression=None, proxy=None, max_size=None, ping_interval=None,
                                            open_timeout=timeout, create_connection=_echo_connection_class()),
                                    timeout)
    except Exception as exc:  # counted, never raised: one user's failure is data
        state.errors[type(exc).__name__] += 1
        return
    if state.stopping:  # the run was interrupted while this user connected
        ws.transport.abort()
        return
    state.open.add(ws)
    state.result.connected += 1
    state.result.connect.record(time.perf_counter() - started)
    loop = asyncio.get_running_loop()
    begin = time.perf_counter()
    intended = [begin + seq / rate for seq in range(messages)]
    pending = set(range(messages))
    highest = -1
    written = 0  # messages handed to the connection so far: an "echo" of a later one is not an echo
    last_write = begin
    finished = loop.create_future()  # the last echo came (result) or the user failed (exception)
    timer: asyncio.TimerHandle | None = None
    slow: asyncio.Task[None] | None = None

    def fail(exc: BaseException) -> None:
        if not finished.done():
            finished.set_exception(exc)

    def on_message(data: bytes | str) -> None:
        nonlocal highest
        if not isinstance(data, bytes) or len(data) < HEADER.size:
            return
        who, seq, tag = HEADER.unpack_from(data)
        if tag != TAG or who != user or seq not in pending or seq >= written:
            return
        pending.discard(seq)
        if seq < highest:
            state.result.out_of_order += 1
        highest = max(highest, seq)
        state.echoed(intended[seq])
        if not pending and not finished.done():
            finished.set_result(None)

    def on_lost() -> None:  # what ws.recv() would raise now
        fail(ws.protocol.close_exc)

    async def send_slowly(first: int) -> None:
        """The rest of the messages through websockets' own send(), which waits for the transport to drain (each
        for at most ``timeout`` seconds: a server that stopped reading for good ends the user)."""
        nonlocal written, last_write
        try:
            for seq in range(first, messages):
                delay = intended[seq] - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if state.stopping:
                    return
                written = seq + 1
                await asyncio.wait_for(ws.send(state.message(user, seq)), timeout)
                last_write = time.perf_counter()
                state.sent()
        except TimeoutError:
            fail(_SendTimeout())
        except Exception as exc:
            fail(exc)

    def send_from(seq: int) -> None:
        """On the loop: send every message that is due, from ``seq``; a timer calls again for the next one."""
        nonlocal timer, slow, written, last_write
        timer = None
        while seq < messages and not state.stopping:
            delay = intended[seq] - time.perf_counter()
            if delay > 0:
                timer = loop.call_later(delay, send_from, seq)
                return
            if ws.protocol.state is not State.OPEN or ws.paused or ws.send_in_progress is not None:
                slow = loop.create_task(send_slowly(seq))
                return
            written = seq + 1
            try:
                ws.protocol.send_binary(state.message(user, seq))
                ws.send_data()
            except Exception:  # websockets' send() says what went wrong, as it would have
                slow = loop.create_task(send_slowly(seq))
                return
            last_write = time.perf_counter()
            state.sent()
            seq += 1

    def echo_deadline() -> float:
        """``timeout`` after the last message was meant to go, or went (flow control may have held it back)."""
        return max(intended[-1], last_write) + timeout

    ws.on_message, ws.on_lost = on_message, on_lost
    try:
        if ws.protocol.state is State.CLOSED:  # closed between the handshake and now: recv() would raise
            on_lost()  # (closing: the first send says how, as websockets' send() would)
        send_from(0)
        while True:
            sending = slow is not None and not slow.done()  # each of its sends is bounded by timeout
            try:
                await asyncio.wait_for(asyncio.shield(finished), timeout if sending else
                                       max(0.0, echo_deadline() - time.perf_counter()))
                break
            except TimeoutError:
                if not (sending or echo_deadline() > time.perf_counter()):
                    raise
    except TimeoutError:
        state.errors["echo timeout"] += 1
    except _SendTimeout:
        state.errors["send timeout"] += 1
    except asyncio.CancelledError:  # the run was interrupted: drop the connection at once, no closing handshake
        ws.transport.abort()
        raise
    except Exception as exc:
        state.errors[type(exc).__name__] += 1
    finally:
        ws.on_message = ws.on_lost = None
        if timer is not None:
            timer.cancel()
        if slow is not None:
            slow.cancel()
        if not finished.done():
            finished.cancel()
        elif not finished.cancelled():
            finished.exception()  # retrieved: asyncio does not warn about it
        state.open.discard(ws)
        state.result.lost += len(pending)
    try:
        await asyncio.wait_for(ws.close(), timeout)
    except asyncio.CancelledError:
        ws.transport.abort()
        raise
    except Exception:  # a closing handshake the server never finished: drop the connection (nothing was lost)
        ws.transport.abort()


class _SendTimeout(Exception):
    """A message waited ``timeout`` seconds for the transport to drain (a server that stopped reading)."""


async def _socketio_user(state: _Run, url: str, user: int, messages: int, rate: float, timeout: float,
                         event: str) -> None:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    started = time.perf_counter()
    try:
        await client.connect(url, transports=["websocket"], wait_timeout=timeout)
    except Exception as exc:
        state.errors[type(exc).__name__] += 1
        return
    state.result.connected += 1
    state.result.connect.record(time.perf_counter() - started)
    highest, pending = -1, set(range(messages))

    async def one(seq: int, intended: float) -> None:
        nonlocal highest
        try:
            reply = await client.call(event, state.message(user, seq), timeout=timeout)
        except Exception as exc:
            state.errors[type(exc).__name__] += 1
            return
        if isinstance(reply, bytes) and len(reply) >= HEADER.size and HEADER.unpack_from(reply)[1] == seq:
            pending.discard(seq)
            if seq < highest:
                state.result.out_of_order += 1
            highest = max(highest, seq)
            state.echoed(intended)

    calls = []
    begin = time.perf_counter()
    try:
        for seq in range(messages):
            intended = begin + seq / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            calls.append(asyncio.ensure_future(one(seq, intended)))
            state.sent()
        await asyncio.gather(*calls)
    finally:
        for call in calls:
            call.cancel()
        state.result.lost += len(pending)
        try:
            await asyncio.wait_for(client.disconnect(), timeout)
        except BaseException:  # interrupted or stuck: drop the transport
            eio = getattr(client, "eio", None)
            ws = getattr(eio, "ws", None)
            if ws is not None and hasattr(ws, "close"):
                ws.close()
            raise


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ValueError(
            f"load tests run against this machine only (127.0.0.1, ::1, localhost); {host!r} is not loopback. "
            "Pass allow_remote=True only for a server you own, on a network you may load."
        )


async def run_async(
    url: str | Sequence[str],
    *,
    phases: Sequence[Phase] = (Phase(5, 10),),
    messages: int = 10,
    rate: float = 10.0,
    size: int = 64,
    event: str = "echo",
    timeout: float = 10.0,
    allow_remote: bool = False,
    progress: bool = True,
    _started: Callable[[LoadResult], None] | None = None,
) -> LoadResult:
    """:func:`run` for code already on an event loop (its progress bar is drawn on that loop's thread).

    ``_started`` (for :func:`run`) is handed the result as soon as it exists, so that another thread can
    follow ``result.received`` and draw the progress itself.
    """
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("no URL to load")
    schemes = {urllib.parse.urlsplit(u).scheme for u in urls}
    if len(schemes) != 1 or not schemes <= {"ws", "wss", "http", "https"}:
        raise ValueError(f"expected ws:// (WebSocket echo) or http:// (Socket.IO) URLs of one kind, got {urls!r}")
    (scheme,) = schemes
    if not allow_remote:
        for u in urls:
            _check_loopback(u)
    if messages < 1 or rate <= 0:
        raise ValueError("messages must be at least 1 and rate above 0")
    schedule, offset = [], 0.0
    for phase in phases:
        schedule += [offset + t for t in phase.arrivals()]
        offset += phase.duration
    result = LoadResult(users=len(schedule))
    if _started is not None:
        _started(result)
    bar = tqdm(total=len(schedule) * messages, desc="echoes", unit="msg", disable=not progress, leave=False)
    state = _Run(result, size, bar)
    users = []
    try:
        for user, at in enumerate(schedule):
            delay = state.started + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            target = urls[user % len(urls)]  # several servers: users spread round-robin
            if scheme in ("ws", "wss"):
                session = _websocket_user(state, target, user, messages, rate, timeout)
            else:
                session = _socketio_user(state, target, user, messages, rate, timeout, event)
            users.append(asyncio.ensure_future(session))
        # Bounded whatever happens: every user must be done by the end of its schedule plus the timeouts.
        limit = messages / rate + 3 * timeout + 5
        _done, stuck = await asyncio.wait(users, timeout=limit) if users else (set(), set())
        if stuck:
            state.errors["user did not finish in time"] += len(stuck)
    finally:
        state.stopping = True  # interrupted or done: no user of this run goes on in the background
        for task in users:
            task.cancel()
        for ws in list(state.open):
            ws.transport.abort()
        if users:
            await asyncio.wait(users, timeout=0.5)
        state.finish()
        bar.close()
    result.errors = dict(state.errors)
    result.duration = time.perf_counter() - state.started
    return result


def run(url: str, **options: Any) -> LoadResult:
    """Run a load test from a cell (on the wskit loop); takes the options of :func:`run_async`.

    Args:
        url: a WebSocket echo server (``ws://``), or a Socket.IO server
            (``http://``) whose ``event`` handler returns what it is sent; or
            a list of such URLs, which the users are spread over round-robin.
        phases: the arrival phases.
        messages: messages each user sends.
        rate: messages a second each user sends.
        size: bytes per message (at least 16: user id, sequence number, tag).
        timeout: seconds to connect; to wait for a message that flow control holds back (a server that
            stopped reading: a ``"send timeout"`` error); and to wait for the last echoes after the last message
            went (an ``"echo timeout"`` error).
        allow_remote: permit a non-loopback target.
        progress: show a progress bar.

    The run is bounded: it ends by its schedule (the phases, then each user's
    messages) plus three ``timeout`` periods. An interrupted cell stops it on
    the loop within a second: every user's connection is dropped.
    """
    phases = options.get("phases", (Phase(5, 10),))
    messages, rate = options.get("messages", 10), options.get("rate", 10.0)
    timeout = options.get("timeout", 10.0)
    limit = sum(p.duration for p in phases) + messages / max(rate, 1e-9) + 4 * timeout + 10
    _loop.get_loop()  # a load run makes its own clients: it may start the loop
    # The bar is a widget in a notebook: drawn here, on the cell's thread, from the count the run keeps on the loop.
    users = sum(len(phase.arrivals()) for phase in phases)
    bar = tqdm(total=users * messages, desc="echoes", unit="msg", disable=not options.pop("progress", True),
               leave=False)
    running: list[LoadResult] = []
    try:
        return _loop.run(
            run_async(url, **options, progress=False, _started=running.append),
            timeout=limit,
            tick=lambda: running and bar.update(max(0, running[0].received - bar.n)),
        )
    finally:
        bar.close()


def to_json(result: LoadResult) -> str:
    """The summary as JSON (for the command line and the benchmarks)."""
    return json.dumps({
        "users": result.users,
        "connected": result.connected,
        "sent": result.sent,
        "received": result.received,
        "lost": result.lost,
        "out_of_order": result.out_of_order,
        "errors": result.errors,
        "duration": result.duration,
        "latency_ms": {str(q): result.percentile(q) for q in LoadResult.PERCENTILES},
        "connect_ms": {str(q): result.percentile(q, "connect") for q in LoadResult.PERCENTILES},
    })


def run_in_process(  # the run_async options it passes on the command line, spelled out for help() (on purpose)
    url: str | Sequence[str],
    *,
    phases: Sequence[Phase] = (Phase(5, 10),),
    messages: int = 10,
    rate: float = 10.0,
    timeout: float = 60.0,
    loop: str = "asyncio",
) -> tuple[dict[str, Any], float, float]:
    """Run the load generator in a process of its own (``python -m wskit load``), off this one's cores.

    ``loop="uvloop"`` runs it on uvloop (an optional dependency) instead of asyncio's own loop.

    Returns:
        ``(summary, wall seconds, CPU seconds the generator used)``; the summary is :func:`to_json`'s.
    """
    import resource
    import subprocess
    import sys

    urls = [url] if isinstance(url, str) else list(url)
    command = [sys.executable, "-m", "wskit", "load", *urls, "--messages", str(messages), "--rate", str(rate),
               "--timeout", str(timeout), "--json", "--quiet", "--loop", loop]
    for phase in phases:
        command += ["--phase", f"{phase.duration}:{phase.arrival_rate}"
                    + (f":{phase.ramp_to}" if phase.ramp_to is not None else "")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=sum(p.duration for p in phases) + messages / rate + 3 * timeout + 60)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: the run worked but lost messages or met errors (in the summary)
        raise RuntimeError(f"the load generator failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return json.loads(done.stdout), wall, cpu
