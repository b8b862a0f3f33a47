"""WebSocket clients for notebook cells, on the shared wskit loop.

Two flavours over one core:

* :func:`connect` returns a :class:`Client` for plain cells:
  ``c.send("hi"); c.recv()``.
* :func:`aconnect` returns an :class:`AsyncClient` for ``await`` in cells:
  ``c = await wskit.aconnect(url); await c.send("hi"); await c.recv()``.

Both open the TCP connection themselves and then hand the socket to the real
``websockets`` client for the opening handshake, so that :attr:`timings`
can split the time to connect into TCP connect and HTTP upgrade.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import inspect
import ipaddress
import json
import queue
import random
import socket
import threading
import time
import types
import urllib.parse
from collections.abc import Iterable
from typing import Any

import websockets
from websockets.asyncio.client import connect as ws_connect
from websockets.protocol import State

from ..codec.handshake import Response
from . import loop as _loop
from ._traffic import LoggedClientConnection, to_request, to_response
from .errors import LiveError
from .log import Handshake, TrafficLog

__all__ = ["AsyncClient", "Client", "HandshakeRefused", "aconnect", "backoff_delay", "connect", "logged_connect"]

Data = str | bytes
"""A WebSocket message as Python sees it: ``str`` from a text frame, ``bytes`` from a binary one."""

READ_AHEAD = 16
"""Messages the plain-cell reader may hold for :meth:`Client.recv` before it stops reading (the bound on
what it holds; past it, websockets' own buffer and then TCP hold the rest, as for any reader)."""

UNREAD_CONNECTIONS = 4
"""With ``reconnect=True``: earlier connections whose messages no ``recv()`` has read yet that a client keeps (each
holds what websockets buffered for it, a bounded amount); past this many the oldest is let go, with a log event."""

MAX_UNSENT = 64
"""Messages a plain-cell :meth:`Client.send` may leave queued on the loop without waiting for them to be written.

A cell's ``send()`` hands the message to the loop and returns; past this many not yet written (a peer
that stopped reading), ``send()`` waits for its own message to go out, up to the client's ``timeout``.
This is the bound on what a client holds for sending: ``MAX_UNSENT`` messages.
"""


class HandshakeRefused(LiveError, ConnectionError):
    """The server answered the Upgrade request with something other than 101.

    Attributes:
        status: the HTTP status (400, 403, 426, ...).
        response: the whole response, as a :class:`wskit.codec.handshake.Response`.
    """

    def __init__(self, response: Response) -> None:
        self.status = response.status
        self.response = response
        body = response.body.decode("utf-8", "replace").strip()
        super().__init__(
            f"the server refused the WebSocket handshake: {response.status} {response.reason}"
            + (f" — {body}" if body else "")
        )


BACKOFF_BASE = 0.1
BACKOFF_CAP = 3.0
BACKOFF_JITTER = 0.2


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
                  jitter: float = BACKOFF_JITTER) -> float:
    """Seconds to wait before reconnection attempt number ``attempt`` (1, 2, ...).

    The delay doubles from ``base`` up to ``cap``: ``d = min(base * 2**(attempt - 1), cap)``;
    then jitter spreads clients that dropped together: the wait is drawn
    uniformly from ``[d * (1 - jitter), min(d * (1 + jitter), cap)]``. So it is
    never more than ``cap`` (3 s by default) and never less than
    ``(1 - jitter) * d``; jitter never compounds from one attempt to the next.
    """
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    delay = min(base * 2 ** min(attempt - 1, 60), cap)
    return random.uniform(delay * (1 - jitter), min(delay * (1 + jitter), cap))


def _encode(message: Any) -> Data:
    if isinstance(message, str):
        if not message.isascii():
            try:
                message.encode()
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"this text cannot be sent: {exc.reason} at position {exc.start} (a text message is UTF-8, "
                    f"and {message[exc.start:exc.end]!r} has no UTF-8 form); nothing was sent"
                ) from None
        return message
    if isinstance(message, bytes):
        return message
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    if isinstance(message, (dict, list)):
        return json.dumps(message)
    raise TypeError(
        f"send() takes str (a text frame), bytes (a binary frame) or a dict/list "
        f"(sent as JSON text); got {type(message).__name__}"
    )


@types.coroutine
def _resume(coro: Any, waiting: Any) -> Any:
    """Go on with ``coro``, which stopped to wait for ``waiting``: hand that up, then pass results down."""
    while True:
        try:
            result = yield waiting
        except BaseException as exc:  # a cancellation (or an error) thrown in by the task
            try:
                waiting = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                waiting = coro.send(result)
            except StopIteration as stop:
                return stop.value


def _start_eagerly(coro: Any) -> asyncio.Task[Any] | None:
    """Run ``coro`` now, on the loop, up to its first wait; a task takes it on from there (``None``: it is done).

    This is Python 3.12's eager task start (``asyncio.eager_task_factory``) for 3.11: a ``send()`` on an open
    connection writes its frame at once, without scheduling a task for it (it waits only when the peer is slow).
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None

    async def rest() -> Any:
        return await _resume(coro, waiting)

    return asyncio.get_running_loop().create_task(rest())


class _Core:
    """What both client flavours share; its coroutines run on the wskit loop."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        """``options``: every keyword of :class:`Client` but ``name`` (the one list of them, with defaults)."""
        timeout, ssl, subprotocols = options["timeout"], options["ssl"], options["subprotocols"]
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
            raise ValueError(f"expected a ws:// or wss:// URL such as 'ws://127.0.0.1:8765/', got {url!r}")
        self.url = url
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "wss" else 80)
        self.timeout = timeout
        self.log = TrafficLog(options["log_size"])
        self.timings: dict[str, float] = {}
        self.ws: LoggedClientConnection | None = None
        self.reconnect = options["reconnect"]
        self.reconnect_for = 60.0
        self.user_closed = False
        self.connect_count = 0
        self.connected_changed = threading.Condition()
        self._watcher: asyncio.Task[None] | None = None
        # The plain-cell fast path (Client): send() hands the message to the loop, which writes it at once (or
        # queues it to one writer, keeping the order) while send() returns; the first recv() starts reading on
        # the loop: messages are pumped to a thread-side inbox as they arrive (READ_AHEAD at most), so recv()
        # only waits on the inbox. Taking ``.connection`` (for code on the loop) stops reading first; what was
        # read stays in the inbox for the next recv().
        self._outbox: collections.deque[tuple[Data, asyncio.Future[None] | None]] = collections.deque()
        self._writer: asyncio.Task[None] | None = None
        self.unsent = 0  # plain-cell sends handed to the loop and not yet written (guarded by unsent_lock)
        self.unsent_lock = threading.Lock()
        self.send_error: BaseException | None = None  # a plain-cell send that failed on the loop, raised next
        self.inbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()  # (ok, message or exception)
        self.reading = False  # a reader runs (or was asked for): set and cleared on the cell's thread only
        self.parked = False  # the reader waits for room in the inbox (set and cleared on the loop only)
        self._room: asyncio.Event | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pumped: LoggedClientConnection | None = None  # messages of this connection are pumped to the inbox
        # The connections whose messages a recv() has not read to the end, oldest first (with reconnect=True a
        # drop leaves the old one here until its last message and its ConnectionClosed are read): the next recv()
        # reads the first. At most UNREAD_CONNECTIONS; past that the oldest is let go, with a log event.
        self.unread: collections.deque[LoggedClientConnection] = collections.deque()
        self._started: LoggedClientConnection | None = None  # the last connection a recv() began to read
        self.gave_up = False  # reconnect=True: the watcher stopped trying
        self._read_when_connected = False  # a plain-cell recv() waits for the reconnection under way
        self._reopened: asyncio.Event | None = None  # async recv()s wait on it for the same
        self._options: dict[str, Any] = {  # websockets' names for them
            **{key: options[key] for key in ("origin", "compression", "max_size", "ping_interval", "ping_timeout",
                                             "close_timeout")},
            "subprotocols": list(subprotocols) if subprotocols is not None else None,
            "additional_headers": options["headers"],
            "open_timeout": timeout,
            "proxy": None,
        }
        if ssl is not None:
            self._options["ssl"] = ssl

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:  # an IP address needs no resolver (and no executor thread)
            ip = ipaddress.ip_address(self.host)
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            address: tuple[Any, ...] = (self.host, self.port)
        except ValueError:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, address), self.timeout)
        except BaseException:
            sock.close()
            raise
        connected = time.perf_counter()
        attempt: list[LoggedClientConnection] = []

        def connection_factory(*args: Any, **kwargs: Any) -> LoggedClientConnection:
            connection = LoggedClientConnection(*args, **kwargs)
            connection.wskit_attach(self.log, 0)
            attempt.append(connection)
            return connection

        ws = None
        try:
            ws = await ws_connect(self.url, sock=sock, create_connection=connection_factory, **self._options)
        except websockets.InvalidStatus as exc:
            response = to_response(exc.response)
            self._log_handshake(attempt, response)
            self.log.add("event", "REJECTED", code=response.status,
                         info=response.body.decode("utf-8", "replace").strip())
            raise HandshakeRefused(response) from None
        finally:
            if ws is None:
                sock.close()
        self.ws = ws
        self._keep_unread(ws)
        upgraded = time.perf_counter()
        self._log_handshake(attempt, to_response(ws.response))
        self.timings = {"tcp_connect": connected - started, "upgrade": upgraded - connected}
        with self.connected_changed:
            self.connect_count += 1
            self.connected_changed.notify_all()
        self.gave_up = False  # connected again (Client.reconnect() after a give-up, too)
        self._wake_readers()
        if self.reconnect and self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        """Reopen the connection whenever it drops, with exponential backoff (see :func:`backoff_delay`)."""
        try:
            await self._redial()
        finally:  # given up, closed, or failed unexpectedly: a recv() waiting for a reconnection gets the drop
            if self._watcher is asyncio.current_task():  # (not a watcher that Client.reconnect() replaced)
                self.gave_up = True
                self._wake_readers()

    async def _redial(self) -> None:
        while not self.user_closed:
            assert self.ws is not None
            await self.ws.wait_closed()
            attempt, last = 0, ""
            deadline = time.monotonic() + self.reconnect_for
            while not self.user_closed:
                attempt += 1
                delay = backoff_delay(attempt)
                self.log.add("event", "RECONNECTING", info=f"attempt {attempt} in {delay:.2f} s {last}".rstrip())
                await asyncio.sleep(delay)
                try:
                    await self.open()
                    break
                except (OSError, websockets.WebSocketException, TimeoutError, HandshakeRefused) as exc:
                    last = f"(last: {type(exc).__name__})"
                    if time.monotonic() > deadline:
                        self.log.add("event", "ERROR", info=f"gave up reconnecting after {attempt} attempts: {exc!r}")
                        return

    def _keep_unread(self, ws: LoggedClientConnection) -> None:
        """Queue a new connection behind those whose messages are not read yet (a bounded number of them).

        The connection that dropped is passed over if no recv() ever read from it and it left nothing to read (a
        learner who never read it gets no stale ConnectionClosed); once read from, its end is owed to a recv()."""
        if self.unread:
            dropped = self.unread[-1]  # the connection that just dropped
            if dropped is not self._started and not dropped.recv_messages.frames.queue:
                self.unread.pop()
        self.unread.append(ws)
        if len(self.unread) > UNREAD_CONNECTIONS + 1:  # the oldest that no reader is on goes
            reading = self._pumped is not None or (self._reader is not None and not self._reader.done())
            old = self.unread[1 if reading else 0]
            self.unread.remove(old)
            self.log.add("event", "ERROR", info=f"{len(old.recv_messages.frames.queue)} frames of an earlier "
                         f"connection were never read: let go, {UNREAD_CONNECTIONS} unread ones are kept")

    def _read_to_the_end(self, ws: LoggedClientConnection) -> None:
        """``ws``'s end was handed to a recv(): the next recv() reads the connection after it."""
        if self.unread and self.unread[0] is ws:
            self.unread.popleft()

    def _awaiting_reconnect(self) -> bool:
        """The dropped connection's end was handed to a recv() and a reconnection is under way: the next recv()
        waits for the new connection (within its timeout) instead of raising the same drop again."""
        return (not self.unread and self.reconnect and not self.user_closed and not self.gave_up
                and self._watcher is not None and not self._watcher.done()
                and self.ws is not None and self.ws.state is State.CLOSED)

    def _wake_readers(self) -> None:
        """On the loop: a connection opened, or reconnecting ended: recv()s waiting for it go on."""
        if self._read_when_connected:
            self._read_when_connected = False
            self.start_reading()
        if self._reopened is not None:
            self._reopened.set()
            self._reopened = None

    def _start_on(self) -> LoggedClientConnection:
        """The connection the next recv() reads, marked as read from: the oldest with messages (or its end) still
        unread, else the last one (closed: its recv() raises how it ended, again)."""
        self._started = ws = self.unread[0] if self.unread else self._open_ws()
        return ws

    def _log_handshake(self, attempt: list[LoggedClientConnection], response: Response) -> None:
        if attempt and attempt[0].request is not None:
            self.log.add_handshake(0, to_request(attempt[0].request), response)

    def _open_ws(self) -> LoggedClientConnection:
        if self.ws is None:
            raise LiveError("this client is not connected")
        return self.ws

    async def send(self, message: Any) -> None:
        """Send through the writer (after what is queued) and wait until the message is written."""
        self._open_ws()
        done = asyncio.get_running_loop().create_future()
        item = (_encode(message), done)
        self.enqueue(*item)
        try:
            await done
        except asyncio.CancelledError:  # interrupted or timed out: a message not yet begun is withdrawn
            if self._outbox and self._outbox[0] is not item and item in self._outbox:
                self._outbox.remove(item)
            raise

    def enqueue(self, data: Data, done: asyncio.Future[None] | None = None) -> None:
        """On the loop: queue ``data`` for the writer; ``done`` (if any) learns when it is written.

        A plain-cell message (no ``done``) with nothing queued before it, on an open connection whose transport
        takes more, is written here and now, as ``ws.send()`` would write it, without a coroutine.
        """
        ws = self.ws
        if (done is None and not self._outbox and self._writer is None and ws is not None
                and ws.state is State.OPEN and ws.send_in_progress is None and not ws.paused):
            try:  # as websockets' send() tells them apart (a str subclass, such as a StrEnum, is text)
                if isinstance(data, str):
                    ws.protocol.send_text(data.encode())
                else:
                    ws.protocol.send_binary(data)
                ws.send_data()
            except BaseException as exc:  # as websockets' send() does with an unexpected error: the connection is
                self.send_error = exc  # dropped, and the next send() raises it
                ws.transport.abort()
            finally:
                with self.unsent_lock:
                    self.unsent -= 1
            return
        self._outbox.append((data, done))
        if self._writer is None:
            ws = self.ws
            if ws is not None and ws.state is State.OPEN and ws.send_in_progress is None:
                self._writer = _start_eagerly(self._write())  # written now, in this callback
            else:  # closing (websockets then awaits with a timeout, which needs a task), or a fragmented send
                self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._outbox:
                data, done = self._outbox[0]
                try:
                    await self._open_ws().send(data)
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:
                    if done is None:
                        self.send_error = exc
                    elif not done.done():
                        done.set_exception(exc)
                else:
                    if done is not None and not done.done():
                        done.set_result(None)
                finally:
                    self._outbox.popleft()
                    if done is None:
                        with self.unsent_lock:
                            self.unsent -= 1
        finally:
            self._writer = None
            for _, done in self._outbox:  # cancelled (the client closed, stop_all): nothing else is written
                if done is not None:
                    done.cancel()
            self._outbox.clear()

    def start_reading(self) -> None:
        """On the loop: start handing messages to the inbox for plain-cell recv() (again after it ended or stopped).

        Messages are *pumped*: :meth:`_pump` runs in the very callback in which websockets parsed them
        (``data_received``), so a message reaches the inbox with no task to wake and no loop turn in between.
        Whatever is not a whole message in one frame on an open connection (a message in fragments, a closed
        connection, a message websockets refuses, code on the loop receiving at the same time) is handed to a
        reader task (:meth:`_read`), whose ``ws.recv()`` answers it exactly as websockets does.
        """
        if self._pumped is not None or (self._reader is not None and not self._reader.done()) or self.ws is None:
            return
        if self._awaiting_reconnect():  # started by _wake_readers when the new connection opens
            self._read_when_connected = True
            return
        ws = self._start_on()
        self._pumped = ws
        ws.wskit_sink = functools.partial(self._pump, ws)
        self._pump(ws)

    def make_room(self) -> None:
        """On the loop: recv() took a message from a full inbox; a parked reader goes on."""
        if self._pumped is not None:
            self._pump(self._pumped)  # the connection it reads (a reconnect may have opened another since)
        elif self._room is not None:
            self._room.set()

    def _pump(self, ws: LoggedClientConnection) -> None:
        """On the loop, as data arrives: move whole messages from websockets into the inbox (READ_AHEAD at most)."""
        if ws is not self._pumped:  # stopped, or handed to the reader task
            return
        try:
            self._pump_messages(ws)
        except BaseException:  # a defect here must not abort the connection (this runs inside data_received)
            self._read_in_a_task()

    def _pump_messages(self, ws: LoggedClientConnection) -> None:
        """Take each message in one frame from websockets' assembler (``ws.recv_messages``, what ``ws.recv()``
        awaits) with its own ``get()``, stepped by hand: a whole frame is there, so it never waits."""
        assembler = ws.recv_messages
        frames = assembler.frames
        while True:
            self.parked = True  # before looking: a recv() that takes a message from now on calls make_room
            if self.inbox.qsize() >= READ_AHEAD:
                return
            self.parked = False
            if not frames.queue:
                if ws.state is not State.OPEN:  # closed or closing, and nothing left: the reader task ends it
                    self._read_in_a_task()
                return  # nothing here yet: the next data_received calls again
            first = frames.queue[0]
            if not first.fin or assembler.get_in_progress:  # in fragments (the task assembles them in linear
                self._read_in_a_task()  # time), or code on the loop receiving too (websockets refuses that)
                return
            getting = assembler.get()
            try:
                getting.send(None)
            except StopIteration as stop:
                self.inbox.put((True, stop.value))
                continue
            except BaseException:  # refused (invalid UTF-8): back where it was, for websockets' own recv() to answer
                if not frames.queue or frames.queue[0] is not first:
                    frames.put_back([first])
                self._read_in_a_task()
                return
            with contextlib.suppress(asyncio.CancelledError):  # it waits after all: withdraw, as a cancelled
                getting.throw(asyncio.CancelledError())  # recv() does, and let the task take it
            self._read_in_a_task()
            return

    def _read_in_a_task(self) -> None:
        """Hand reading over to the reader task (:meth:`_read`): it does what ``ws.recv()`` does, errors included,
        on the same connection."""
        ws = self._pumped
        self._halt_pump()
        if ws is not None and (self._reader is None or self._reader.done()):
            self._room = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read(ws))

    def _halt_pump(self) -> None:
        pumped, self._pumped = self._pumped, None
        if pumped is not None:
            pumped.wskit_sink = None

    async def _read(self, ws: LoggedClientConnection) -> None:
        """Read ``ws`` until it ends (a reconnect opens another: the next recv() reads that one)."""
        assert self._room is not None
        room = self._room
        while True:
            room.clear()
            self.parked = True  # before looking: a recv() that takes a message from now on wakes us
            while self.inbox.qsize() >= READ_AHEAD:
                await room.wait()
                room.clear()
            self.parked = False
            try:
                item: tuple[bool, Any] = (True, await ws.recv())
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # closed (or broken): recv() raises it, and the reader ends
                if isinstance(exc, websockets.ConnectionClosed):
                    self._read_to_the_end(ws)
                self.inbox.put((False, exc))
                return
            self.inbox.put(item)

    def halt_reading(self) -> asyncio.Task[None] | None:
        """On the loop, at once: stop the pump and cancel the reader task; returns it if it still ran, to wait for."""
        self._halt_pump()
        self._read_when_connected = False
        reader, self._reader = self._reader, None
        if reader is None or reader.done():
            return None
        reader.cancel()
        return reader

    async def stop_reading(self) -> None:
        """Stop reading ahead: a message not yet handed over stays queued in websockets; those handed over stay in
        the inbox, for the next recv()."""
        reader = self.halt_reading()
        if reader is not None:
            await asyncio.wait({reader})

    def take(self, timeout: float | None) -> tuple[bool, Any] | None:
        """On the cell's thread: the next (ok, message or error) handed over, waiting up to ``timeout`` seconds
        (``0``: not at all; interruptible); ``None`` if none came."""
        try:
            return self.inbox.get(timeout=timeout) if timeout != 0 else self.inbox.get_nowait()
        except queue.Empty:
            return None

    async def recv(self, timeout: float | None) -> Data:
        # Cancelling this (an interrupted cell) cancels websockets' recv(), which is safe: the message
        # stays queued for the next recv() and no receive is left running.
        try:
            async with asyncio.timeout(timeout):
                while self._awaiting_reconnect():
                    if self._reopened is None:
                        self._reopened = asyncio.Event()
                    await self._reopened.wait()
                ws = self._start_on()
                try:
                    return await ws.recv()
                except websockets.ConnectionClosed:
                    self._read_to_the_end(ws)
                    raise
        except TimeoutError:
            raise TimeoutError(f"no message received within {timeout} s") from None

    async def ping(self, data: bytes | None) -> float:
        waiter = await self._open_ws().ping(data)
        return await asyncio.wait_for(waiter, self.timeout)

    async def close(self, code: int, reason: str) -> None:
        self.user_closed = True
        if self._watcher is not None:
            self._watcher.cancel()
        self._wake_readers()  # an async recv() waiting for a reconnection gets the drop instead
        await self.stop_reading()
        if self.ws is not None:
            try:  # a peer that stopped reading cannot take our close frame: give up and drop the connection
                async with asyncio.timeout(self.timeout):
                    if self._writer is not None:  # what send() queued goes out first
                        await asyncio.wait({self._writer})
                    await self.ws.close(code, reason)
            except BaseException as exc:
                if self._writer is not None:
                    self._writer.cancel()
                self.ws.transport.abort()
                if isinstance(exc, TimeoutError):
                    raise TimeoutError(
                        f"the closing handshake did not finish within {self.timeout:g} s (a peer that stopped "
                        "reading, or a dead network): the connection was dropped without it"
                    ) from None
                raise

    @property
    def handshake(self) -> Handshake | None:
        return self.log.handshakes[-1] if self.log.handshakes else None

    @property
    def closed(self) -> bool:
        return self.ws is None or self.ws.state is websockets.protocol.State.CLOSED

    def describe(self, kind: str, name: str) -> str:
        if self.ws is None:
            state = "not connected"
        else:
            state = self.ws.state.name.lower()
            if self.ws.close_code is not None:
                state += f" ({self.ws.close_code} {self.ws.close_reason})".rstrip()
        return f"<{kind} {name!r} {self.url} {state}>"


def _core_attribute(name: str, doc: str) -> Any:
    """A read-only property that reads ``self._core.<name>``."""
    return property(lambda self: getattr(self._core, name), doc=doc)


class _ClientBase(_loop.LiveObject):
    kind = "client"
    _core: _Core
    name: str

    url: str = _core_attribute("url", "The URL connected to.")
    log: TrafficLog = _core_attribute("log", "The traffic log of this connection.")
    handshake: Handshake | None = _core_attribute("handshake", "The opening handshake: ``.request`` and ``.response``.")
    timings: dict[str, float] = _core_attribute("timings", "Seconds spent on ``tcp_connect`` and the ``upgrade``.")
    closed: bool = _core_attribute("closed", "The connection is closed (or never opened).")

    @property
    def connection(self) -> Any:
        """The underlying ``websockets`` connection, for code running on the wskit loop."""
        return self._core.ws

    @property
    def close_code(self) -> int | None:
        """The close code, once closed."""
        return self._core.ws.close_code if self._core.ws is not None else None

    def __repr__(self) -> str:
        return self._core.describe(type(self).__name__, self.name)


class Client(_ClientBase):
    """A WebSocket client for plain (non-async) notebook cells.

    ``wskit.Client(url)`` and ``wskit.connect(url)`` are the same. Each call
    blocks the cell until done, raises a clear error on a timeout instead of
    hanging, and stops its work on the loop when the cell is interrupted.

    Args:
        url: ``ws://host:port/path``, e.g. a server's ``.url``.
        name: re-connecting with the name of a live client closes that one.
            At the top level of a cell it defaults to the variable assigned
            (``c = wskit.Client(url)`` is named ``c``).
        origin: an ``Origin`` header, as a browser page would send.
        subprotocols: subprotocols to offer.
        headers: extra request headers (``{"Authorization": "Bearer ..."}``).
        compression: ``None`` (default) or ``"deflate"``.
        max_size: the largest message accepted, in bytes (1 MiB).
        ping_interval: seconds between keepalive pings (``None``: never).
        ping_timeout: seconds to wait for a keepalive ping's pong before failing the connection (1011 sent,
            then 1006 when no close frame comes back); ``None``: wait for ever.
        close_timeout: seconds to wait for the peer's close frame before dropping the TCP connection.
        timeout: seconds for connecting and for each call (5).
        log_size: traffic records kept.
        ssl: a client ``ssl.SSLContext`` for ``wss://`` (e.g. ``local_tls().client``).
        reconnect: reopen the connection whenever it drops, with exponential
            backoff (:func:`backoff_delay`: 0.1 s doubling, never more than
            3 s, for up to a minute); the log shows each attempt, and
            :meth:`wait_connected` waits for the next one. ``recv()`` gives
            every message the dropped connection brought, then raises its
            ``ConnectionClosed`` once, then reads the new connection: a
            ``recv()`` before it opens waits for it (within its timeout;
            after the client gives up, it raises the drop again). At most
            :data:`UNREAD_CONNECTIONS` unread old connections are kept; one
            that no ``recv()`` read from and that dropped with nothing to
            read is skipped.

    Raises:
        HandshakeRefused: the server answered with 400, 403, 426, ...
        ConnectionRefusedError: nothing listens there.
    """

    def __init__(  # the one list of the client's options (shaped like Server's, which has its own)
        self,
        url: str,
        *,
        name: str | None = None,
        origin: str | None = None,
        subprotocols: Iterable[str] | None = None,
        headers: dict[str, str] | None = None,
        compression: str | None = None,
        max_size: int | None = 2**20,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float | None = 10.0,
        timeout: float = 5.0,
        log_size: int = 10_000,
        ssl: Any = None,
        reconnect: bool = False,
    ) -> None:
        options = {key: value for key, value in locals().items() if key in _DEFAULTS}
        self._core = _Core(url, options)
        self._go_live(name, self._core.open, self._core.timeout + 1)

    def send(self, message: Any) -> None:
        """Send a text (``str``), binary (``bytes``) or JSON (``dict``/``list``) message.

        The message is handed to the loop, which writes it after any queued before it, and ``send`` returns;
        past :data:`MAX_UNSENT` messages not yet written (a peer that stopped reading) it waits for its own.

        Raises:
            TypeError: not a message type.
            websockets.ConnectionClosed: the connection is closed (or a send queued earlier failed on it).
            TimeoutError: the peer took nothing for ``timeout`` seconds while the queue was full.
        """
        core = self._core
        data = _encode(message)
        self._check_live()
        ws = core._open_ws()
        if core.send_error is not None:
            error, core.send_error = core.send_error, None
            raise error
        if ws.state is State.OPEN and not _loop._in_loop_thread():
            with core.unsent_lock:
                fast = core.unsent < MAX_UNSENT
                if fast:
                    core.unsent += 1
            if fast:
                try:
                    _loop.post(core.enqueue, data)
                except BaseException:
                    with core.unsent_lock:
                        core.unsent -= 1
                    raise
                return
        # closed (websockets says how), a full queue, or a call from the loop thread (refused with a hint)
        self._run(core.send(data), core.timeout)

    def recv(self, timeout: float | None = 5.0) -> Data:
        """The next message; waits up to ``timeout`` seconds (``None``: until one comes or the cell is interrupted).

        Raises:
            TimeoutError: nothing arrived in time.
            websockets.ConnectionClosed: the connection is closed.
        """
        core = self._core
        self._check_live()
        item = core.take(0)  # read ahead already
        if item is None:
            if not core.reading:
                core._open_ws()  # not connected: says so
                if _loop._in_loop_thread():  # refused, with the line to type instead
                    wait = None if timeout is None else timeout + 1
                    return self._run(core.recv(timeout), wait)
                core.reading = True  # before the hop: an interrupt from here on stops the reading it started
                try:
                    _loop.post(core.start_reading)
                except BaseException:
                    core.reading = False
                    raise
            try:
                item = core.take(timeout)
            except BaseException:  # an interrupt: the reader stops on the loop too (nothing is lost: a
                self._stop_reading()  # message it was waiting for stays in websockets' buffer), then it goes on
                raise
            if item is None:
                self._stop_reading()
                item = core.take(0)  # it came just as the wait ended
                if item is None:
                    raise TimeoutError(f"no message received within {timeout} s")
        elif core.parked:
            _loop.post(core.make_room)
        ok, value = item
        if not ok:
            core.reading = False  # the reader ended with this error
            raise value
        return value

    def _stop_reading(self) -> None:
        """Cancel the reader recv() started (bounded); a loop that is gone has nothing left to cancel."""
        if self._core.reading:
            self._core.reading = False
            with contextlib.suppress(LiveError, TimeoutError):
                self._run(self._core.stop_reading(), _loop.CANCEL_GRACE)

    @property
    def connection(self) -> Any:
        """The underlying ``websockets`` connection, for code running on the wskit loop.

        Taking it stops the reader that :meth:`recv` keeps running, so that the loop's code may call its
        ``recv()``; messages already read ahead stay for this client's next :meth:`recv`.
        """
        if self._core.reading:
            if _loop._in_loop_thread():  # cannot wait here: the reader is cancelled on the next loop turn
                self._core.reading = False
                self._core.halt_reading()
            else:
                self._stop_reading()
        return self._core.ws

    def ping(self, data: bytes | None = None) -> float:
        """Send a ping; return the seconds until its pong came back."""
        return self._run(self._core.ping(data), self._core.timeout + 1)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake (safe to call twice, and after :func:`wskit.stop_all`)."""
        core = self._core
        reading, core.reading = core.reading, False  # the closing coroutine stops the reader
        try:
            if self._generation == _loop._generation and _loop._loop is not None:
                # even when the connection already dropped: a reconnecting client must stop trying
                _loop.run(core.close(code, reason), core.timeout + 1)
        finally:
            _loop.unregister(self)
            if reading:  # a recv() waiting in another thread (stop_all() from a thread) gets how it ended
                ws = core.ws
                ended = ws is not None and ws.state is State.CLOSED
                core.inbox.put((False, ws.protocol.close_exc if ended else LiveError("this client was closed")))

    stop = close

    @property
    def unsent(self) -> int:
        """Messages :meth:`send` handed to the loop that are not written yet (at most :data:`MAX_UNSENT`).

        The kit's side of a browser's ``ws.bufferedAmount`` (which counts bytes); the bytes written but not yet
        taken by the network are ``c.connection.transport.get_write_buffer_size()``.
        """
        return self._core.unsent

    @property
    def connect_count(self) -> int:
        """How many times this client has connected (reconnections included); not how many are open."""
        return self._core.connect_count

    @property
    def connections(self) -> int:
        """Old name of :attr:`connect_count` (kept for old notebooks)."""
        return self._core.connect_count

    def wait_connected(self, timeout: float = 10.0, *, after: int | None = None) -> None:
        """Wait until connected; with ``after=n``, until connection number n + 1 (after a drop).

        Raises:
            TimeoutError: no (new) connection within ``timeout`` seconds.
        """
        self._check_live()
        want = 1 if after is None else after + 1
        with self._core.connected_changed:
            if not self._core.connected_changed.wait_for(lambda: self._core.connect_count >= want, timeout):
                raise TimeoutError(f"not (re)connected within {timeout} s")

    def reconnect(self) -> None:
        """Open a fresh connection to the same URL, closing this one first; the log goes on."""
        self._check_live()
        self.close()
        while self._core.take(0) is not None:  # what the old connection brought goes with it
            pass
        self._core.unread.clear()
        self._core.user_closed, self._core._watcher = False, None
        self._go_live(self.name, self._core.open, self._core.timeout + 1)


class AsyncClient(_ClientBase):
    """A WebSocket client for ``await`` in cells; create it with :func:`aconnect`."""

    def __init__(self, core: _Core, name: str | None) -> None:
        self._core = core
        self._go_live(name, lambda: None)  # aconnect() opened it already, awaiting on the loop

    async def _arun(self, coro: Any, timeout: float | None) -> Any:
        try:
            self._check_live()
        except LiveError:
            coro.close()
            raise
        return await _loop.arun(coro, timeout)

    async def send(self, message: Any) -> None:
        """Send a text, binary or JSON message."""
        await self._arun(self._core.send(message), self._core.timeout)

    async def recv(self, timeout: float | None = 5.0) -> Data:
        """The next message; waits up to ``timeout`` seconds (``None``: until one comes)."""
        return await self._arun(self._core.recv(timeout), None if timeout is None else timeout + 1)

    async def ping(self, data: bytes | None = None) -> float:
        """Send a ping; return the seconds until its pong came back."""
        return await self._arun(self._core.ping(data), self._core.timeout + 1)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake (safe to call twice, and after :func:`wskit.stop_all`)."""
        try:
            if self._generation == _loop._generation and _loop._loop is not None:
                await _loop.arun(self._core.close(code, reason), self._core.timeout + 1)
        finally:
            _loop.unregister(self)

    def stop(self) -> None:
        """Close from synchronous code (used by :func:`wskit.stop_all`)."""
        try:
            closing = not self.closed or (self._core.reconnect and not self._core.user_closed)  # or redialling
            if closing and self._generation == _loop._generation and _loop._loop is not None:
                _loop.run(self._core.close(1000, ""), self._core.timeout + 1)
        finally:
            _loop.unregister(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def logged_connect(url: str, log: TrafficLog, **options: Any) -> Any:
    """A bare ``websockets`` client connection whose every frame is counted in ``log``.

    For code on the wskit loop that needs the real ``websockets`` connection
    and its byte counts (``log.bytes_sent``, ``log.bytes_received``), such as
    :mod:`wskit.timing`: ``async with logged_connect(url, TrafficLog(0)) as ws: ...``.

    Args:
        url: ``ws://`` URL.
        log: the log that counts the traffic (``TrafficLog(maxlen=0)`` keeps counts only).
        options: passed to ``websockets.asyncio.client.connect`` (``proxy=None`` by default).
    """
    def factory(*args: Any, **kwargs: Any) -> LoggedClientConnection:
        connection = LoggedClientConnection(*args, **kwargs)
        connection.wskit_attach(log, 0)
        return connection

    options.setdefault("proxy", None)
    return ws_connect(url, create_connection=factory, **options)


#: The client's options and their defaults, read from :class:`Client`'s signature: their one list.
_DEFAULTS: dict[str, Any] = {
    parameter.name: parameter.default
    for parameter in inspect.signature(Client.__init__).parameters.values()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name != "name"
}


def _with_defaults(function: str, options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"{function}() got unknown options {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
    return {**_DEFAULTS, **options}


@_loop.factory
def connect(url: str, *, name: str | None = None, **options: Any) -> Client:
    """Open a WebSocket connection from a plain cell: the same as ``wskit.Client(url, ...)``.

    Args:
        url: ``ws://host:port/path``, e.g. a server's ``.url``.
        name: re-connecting with the name of a live client closes that one.
            At the top level of a cell it defaults to the variable assigned
            (``c = wskit.connect(url)`` is named ``c``).
        options: those of :class:`Client` (``origin``, ``headers``, ``timeout``, ``reconnect``, ...).

    Raises:
        HandshakeRefused: the server answered with 400, 403, 426, ...
        ConnectionRefusedError: nothing listens there.
        TypeError: an option :class:`Client` does not know (the message lists those it does).
    """
    return Client(url, name=name, **_with_defaults("connect", options))


@_loop.factory
async def aconnect(url: str, *, name: str | None = None, timeout: float = 5.0, **options: Any) -> AsyncClient:
    """Like :func:`connect`, for ``await`` in a cell or in async code.

    ``timeout`` bounds the connection (and each later call) as for :func:`connect`;
    an interrupted or timed-out connect is cancelled on the wskit loop and
    leaves no socket open.
    """
    core = _Core(url, {**_with_defaults("aconnect", options), "timeout": timeout})
    name = name or _loop.assigned_name(depth=1)
    _loop.get_loop()  # a client made on purpose may start the loop
    await _loop.arun(core.open(), timeout + 1)
    return AsyncClient(core, name)
