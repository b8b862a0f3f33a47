"""Socket.IO: the real python-socketio server and client, on the shared wskit loop.

>>> import wskit
>>> srv = wskit.SocketIOServer()
>>> @srv.on("echo")
... async def echo(sid, data):
...     return data                       # a return value is the acknowledgement
>>> c = wskit.SocketIOClient(srv.url)
>>> c.call("echo", "hi")
'hi'
>>> wskit.stop_all()

Both keep a traffic log of Engine.IO packets (``OPEN``, ``PING``, ``PONG``,
``MESSAGE`` ...), read from Engine.IO's own packet logging: the data of each
record is the packet as it travels on a WebSocket, e.g. ``42["chat","hi"]``,
which :func:`wskit.codec.socketio.describe` decodes. A binary message (an
attachment) is a ``MESSAGE`` record with no data and a note: python-engineio
logs it as ``<binary>``, without its bytes or size.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import inspect
import itertools
import json
import logging
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio
from aiohttp import web
from aiohttp.client_proto import ResponseHandler

from ..codec.socketio import ENGINEIO_TYPES
from . import loop as _loop
from .errors import LiveError
from .log import TrafficLog, redact_bounded

__all__ = ["MAX_INBOX", "MAX_INBOX_BYTES", "SocketIOServer", "SocketIOClient", "SocketIORefused"]

_CODES = {name: code for code, name in ENGINEIO_TYPES.items()}
_PACKET = {"Sending packet %s data %s": "sent", "Received packet %s data %s": "received"}
_SERVER_PACKET = {"%s: " + k: v for k, v in _PACKET.items()}
_ANY_PACKET = _PACKET.keys() | _SERVER_PACKET.keys()
_BINARY = "<binary>"  # python-engineio's packet line for a binary message (a Socket.IO attachment) says only this
_BINARY_NOTE = 'a binary message: python-engineio logs it as "<binary>", without its bytes or size'

#: Binary attachments one Socket.IO packet may announce (python-socketio alone accepts up to 10 digits' worth).
MAX_ATTACHMENTS = 10

#: What a server may queue for one client that is not taking its packets, by default: past it, the session is
#: closed (python-engineio's own queue has no bound).
MAX_QUEUE_BYTES = 16 * 2**20

#: Events a :class:`SocketIOClient` keeps for :meth:`~SocketIOClient.recv` that no cell has taken yet, and the
#: bytes of their arguments (estimated): past either, the oldest are dropped and the client's log says so.
MAX_INBOX = 10_000
MAX_INBOX_BYTES = 64 * 2**20


def _estimate(args: tuple[Any, ...]) -> int:
    """About how many bytes an event's arguments hold (their JSON length; strings and bytes by their length)."""
    total = 0
    for arg in args:
        if isinstance(arg, (str, bytes, bytearray)):
            total += len(arg)
        elif arg is None or isinstance(arg, (bool, int, float)):
            total += 8
        else:
            try:
                total += len(json.dumps(arg, default=repr))
            except (ValueError, RecursionError):
                total += 1024
    return total + 64


class _BoundedQueue(asyncio.Queue):  # type: ignore[type-arg]
    """One Engine.IO session's outgoing packets, at most ``limit`` bytes of them.

    A client that stops reading (or polling) lets the server's emits pile up here. Past the bound the packets are
    let go and the end marker (``None``) queued, on which python-engineio's writer stops and closes the
    connection: the session ends as if the client had gone, and ``on_overflow`` reports it.
    """

    def __init__(self, limit: int, on_overflow: Callable[[_BoundedQueue, int, int], None]) -> None:
        super().__init__()
        self.limit = limit
        self.held = 0
        self.overflowed = False
        self._on_overflow = on_overflow

    def put_nowait(self, item: Any) -> None:
        if self.overflowed and item is not None:
            return  # the session is ending: nothing more goes to it (but the end marker, which poll() puts back)
        size = _packet_size(item)
        if item is not None and self.held + size > self.limit and self.qsize():
            self.overflowed = True
            count, held = self.qsize(), self.held
            while not self.empty():
                self.get_nowait()
                self.task_done()
            self.held = 0
            super().put_nowait(None)
            self._on_overflow(self, count, held)
            return
        self.held += size
        super().put_nowait(item)

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        self.held = max(0, self.held - _packet_size(item))
        return item


def _packet_size(item: Any) -> int:
    data = getattr(item, "data", None)
    return 64 + (len(data) if isinstance(data, str | bytes) else 0)


class _EngineIOTap(logging.Handler):
    """Turns Engine.IO's packet log lines into traffic-log records.

    On a server it numbers the Engine.IO sessions (``conn``) and forgets a
    session when it ends or expires, so that the map stays as small as the
    sessions alive.
    """

    def __init__(self, log: TrafficLog) -> None:
        super().__init__(logging.INFO)
        self.log = log
        self._conns: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._tidy_at = 1024
        #: The sessions the Engine.IO server holds now (set by the server), to forget the others.
        self.alive: Callable[[], Any] | None = None

    @property
    def sessions(self) -> int:
        """How many Engine.IO sessions the tap numbers now."""
        return len(self._conns)

    def forget(self, sid: str) -> None:
        """The session ``sid`` ended."""
        self._conns.pop(sid, None)

    def tidy(self) -> None:
        """Forget every session the Engine.IO server no longer holds."""
        if self.alive is not None:
            alive = self.alive()
            for sid in [sid for sid in self._conns if sid not in alive]:
                del self._conns[sid]
        self._tidy_at = max(1024, 2 * len(self._conns))

    def _conn(self, sid: str) -> int:
        conn = self._conns.get(sid)
        if conn is None:
            conn = self._conns[sid] = next(self._ids)
            if len(self._conns) > self._tidy_at:
                self.tidy()
        return conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message, args = record.msg, record.args or ()
            if message in _ANY_PACKET:
                self.packet(message, args)  # type: ignore[arg-type]
                return
            note = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                note += f": {record.exc_info[1]!r}"
            if not note.startswith("Server initialized"):
                self.log.add("event", "NOTE", info=note)
        except Exception:  # never let logging break the connection
            self.handleError(record)

    def packet(self, message: str, args: tuple[Any, ...]) -> None:
        """One of Engine.IO's packet lines: ``message`` is a key of ``_PACKET`` or ``_SERVER_PACKET``."""
        if message in _SERVER_PACKET:
            sid, kind, data = args
            direction, conn = _SERVER_PACKET[message], self._conn(sid)
        else:
            (kind, data), direction, conn = args, _PACKET[message], 0
        if data is None:
            text = ""
        elif isinstance(data, dict):
            text = json.dumps(data, separators=(",", ":"))
        else:
            text = str(data)  # a text message, or "<binary>": python-engineio logs no bytes
        if text == _BINARY and kind == "MESSAGE":  # what python-engineio logs for a binary message, bytes unsaid
            self.log.add(direction, kind, conn=conn, info=_BINARY_NOTE)
            return
        wire = f"{_CODES.get(kind, '?')}{text}"
        size = len(wire.encode())
        if wire.startswith("40"):  # a Socket.IO CONNECT: its auth may carry a token (redaction reads a window
            wire = redact_bounded(wire, self.log.max_data)  # of it: the whole of a 1 MB packet cost 0.4 s)
        self.log.add(direction, kind, size=size, data=wire, conn=conn)


class _TapLogger(logging.Logger):
    """Engine.IO's logger: a packet line goes straight to the tap, any other line the usual way.

    Engine.IO logs every packet it sends or receives. The usual way makes a ``LogRecord``, looks up the calling
    frame and takes the handler's lock, for a tap that reads only the format string and its arguments: about
    15 µs a packet on the course's 2-core machine, four packets per ``call()`` (client and server side). The
    short cut is taken only in the kit's own set-up (the tap is the one handler, at INFO, with no filters): a
    handler or filter someone adds (``client._logger``) sees every line, packets included, and once the tap is
    removed (the server or client closed) no line reaches the traffic log.
    """

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        handlers = self.handlers
        tap = handlers[0] if len(handlers) == 1 else None
        if (
            isinstance(tap, _EngineIOTap) and not kwargs and isinstance(msg, str) and msg in _ANY_PACKET
            and not self.filters and not tap.filters and tap.level <= logging.INFO and self.isEnabledFor(logging.INFO)
        ):
            try:
                tap.packet(msg, args)
            except Exception:  # never let logging break the connection: reported as logging reports a handler's
                tap.handleError(self.makeRecord(self.name, logging.INFO, "(engineio)", 0, msg, args, sys.exc_info()))
            return
        super().info(msg, *args, **kwargs)


def _tap(log: TrafficLog, name: str) -> tuple[_TapLogger, _EngineIOTap]:
    """A logger of our own for Engine.IO, and the handler that feeds ``log``.

    The logger is not registered with :mod:`logging` (no ``getLogger``): it lives and dies with the server
    or client that holds it, and so does the traffic log.
    """
    logger = _TapLogger(f"wskit.engineio.{name}", logging.INFO)
    tap = _EngineIOTap(log)
    logger.addHandler(tap)
    logger.propagate = False
    return logger, tap


def _untap(logger: logging.Logger, tap: _EngineIOTap) -> None:
    logger.removeHandler(tap)
    tap.close()


def _bounded_packet(limit: int) -> type[socketio.packet.Packet]:
    """A python-socketio packet class that refuses a packet announcing more than ``limit`` binary attachments."""

    class BoundedPacket(socketio.packet.Packet):
        def decode(self, encoded_packet: Any) -> int:
            count = super().decode(encoded_packet) or 0
            if count > limit:
                raise ValueError(f"a packet announced {count} binary attachments; at most {limit} are accepted")
            return count

    return BoundedPacket


def _count_writes(transport: Any, log: TrafficLog) -> None:
    """Count every byte ``transport`` writes in ``log.bytes_sent``."""
    write, writelines = transport.write, transport.writelines

    def counted_write(data: Any) -> None:
        log.bytes_sent += len(data)
        write(data)

    def counted_writelines(chunks: Any) -> None:
        chunks = list(chunks)
        log.bytes_sent += sum(len(chunk) for chunk in chunks)
        writelines(chunks)

    transport.write, transport.writelines = counted_write, counted_writelines


class _Counted(asyncio.Protocol):
    """Wraps the protocol aiohttp gives each server connection, counting the bytes on the wire in a log."""

    def __init__(self, inner: Any, log: TrafficLog) -> None:
        self._inner, self._log = inner, log
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        _count_writes(transport, self._log)
        _loop.read_small(transport)
        self._inner.connection_made(transport)

    def abort(self) -> None:
        """Drop the connection now (no goodbye)."""
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._log.bytes_received += len(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def _counted_session(log: TrafficLog) -> aiohttp.ClientSession:
    """An aiohttp session (made on the loop) whose connections count their bytes in ``log``.

    aiohttp has no public hook for the protocol of a client connection: this sets ``TCPConnector._factory``
    (pinned in pyproject.toml, checked by ``tests/live/test_private_hooks.py``).
    """

    class CountedHandler(ResponseHandler):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            _count_writes(transport, log)
            _loop.read_small(transport)
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            log.bytes_received += len(data)
            super().data_received(data)

    connector = aiohttp.TCPConnector()
    connector._factory = functools.partial(CountedHandler, loop=asyncio.get_running_loop())
    return aiohttp.ClientSession(connector=connector)


def check_private_hooks() -> None:
    """Check what this module relies on inside aiohttp, python-engineio and python-socketio.

    Raises:
        RuntimeError: naming what moved and the version installed.
    """
    import engineio.async_socket

    def moved(library: str, what: str) -> RuntimeError:
        from importlib.metadata import version

        return RuntimeError(f"{library} {version(library)} moved {what}, which wskit/live/sio.py relies on; "
                            "install the version pinned in pyproject.toml")

    async def factory() -> Any:
        connector = aiohttp.TCPConnector()
        try:
            return getattr(connector, "_factory", None)
        finally:
            await connector.close()

    made = asyncio.run(factory())
    if not callable(made) or not isinstance(made(), ResponseHandler):
        raise moved("aiohttp", "TCPConnector._factory (a ResponseHandler factory)")
    source = inspect.getsource(engineio.async_socket) + inspect.getsource(engineio.async_client)
    for line in ("%s: Sending packet %s data %s", "%s: Received packet %s data %s", "Sending packet %s data %s"):
        if line not in source:
            raise moved("python-engineio", f"its packet log line {line!r}")
    server = socketio.AsyncServer(async_mode="aiohttp", serializer=_bounded_packet(1))
    if not isinstance(getattr(server.eio, "handlers", None), dict) or "disconnect" not in server.eio.handlers:
        raise moved("python-engineio", "AsyncServer.handlers['disconnect']")
    if not isinstance(getattr(server.eio, "sockets", None), dict):
        raise moved("python-engineio", "AsyncServer.sockets")
    if server.packet_class.__mro__[1] is not socketio.packet.Packet:
        raise moved("python-socketio", "AsyncServer(serializer=<a Packet subclass>)")


def _on_loop() -> bool:
    return threading.current_thread().name == _loop.THREAD_NAME


def _both_sides(coro: Any, log: TrafficLog, what: str, timeout: float | None) -> Any:
    """Run ``coro`` from a cell (block until done), or, on the loop (in a handler), start it and return its task."""
    if _on_loop():
        task = asyncio.ensure_future(coro)

        def report(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log.add("event", "ERROR", info=f"{what} failed: {task.exception()!r}")

        task.add_done_callback(report)
        return task
    return _loop.run(coro, timeout)


def _data(args: tuple[Any, ...]) -> Any:
    """python-socketio's data argument for ``*args``: one value as is, several as a tuple (several arguments)."""
    return args[0] if len(args) == 1 else (tuple(args) if args else None)


class SocketIOServer(_loop.LiveObject):
    """A python-socketio ``AsyncServer`` on aiohttp, on 127.0.0.1 and a free port.

    Args:
        host: the address to listen on (loopback by default).
        port: the port; 0 picks a free one (give the old port to restart in place).
        name: re-creating a server of the same name replaces it.
        cors_allowed_origins: origins browsers may connect from (``"*"``: any).
        ping_interval, ping_timeout: Engine.IO's heartbeat, in seconds.
        max_http_buffer_size: the largest Engine.IO message (and long-polling
            POST body) accepted, in bytes; a bigger POST is answered 413.
        max_attachments: binary attachments one Socket.IO packet may announce;
            a packet announcing more is refused (and logged), so one client
            holds at most ``max_attachments × max_http_buffer_size`` bytes of
            attachments.
        max_queue_bytes: what the server may queue for one client that does
            not take its packets (it stopped reading, or polling), counted as
            the packets' data plus 64 bytes each; past it the client's session
            is closed, with an ``ERROR`` record. Default 16 MiB.
        redis_url: share rooms and broadcasts with other server processes through
            this Redis (python-socketio's ``AsyncRedisManager``).
        options: more ``socketio.AsyncServer`` options.

    One API from both sides. In a cell, :meth:`emit`, :meth:`call`,
    :meth:`enter_room` and :meth:`leave_room` block until done (``call``
    returns the client's acknowledgement). Inside a handler (which runs on
    the wskit loop) the same calls start at once and return an awaitable:
    ``await srv.emit(...)`` waits for the emit, ``answer = await srv.call(...)``
    for the acknowledgement; an emit that is not awaited still happens.
    :meth:`rooms` returns a snapshot made on the loop, from either side.
    The signatures are the client's (:class:`SocketIOClient`), plus the
    addressing only a server has: ``emit(event, *args, to=, room=,
    skip_sid=, namespace=)``, ``call(event, *args, to=, namespace=, timeout=)``.
    :meth:`close` (or ``stop``) disconnects every client and stops listening.

    Attributes:
        sio: the real ``socketio.AsyncServer``; in handlers, ``await srv.sio.emit(...)`` works too.
        url: ``http://host:port`` (Socket.IO clients take an HTTP URL).
        log: Engine.IO packets in and out, and handler errors; ``bytes_sent`` and
            ``bytes_received`` count every byte on the wire (HTTP and WebSocket).
    """

    kind = "socket.io"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str | None = None,
        cors_allowed_origins: str | list[str] = "*",
        ping_interval: float = 25,
        ping_timeout: float = 20,
        max_http_buffer_size: int = 1_000_000,
        max_attachments: int = MAX_ATTACHMENTS,
        max_queue_bytes: int = MAX_QUEUE_BYTES,
        log_size: int = 10_000,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        self.host = host
        self.max_queue_bytes = max_queue_bytes
        self.redis_url = redis_url
        self.max_http_buffer_size = max_http_buffer_size
        self.log = TrafficLog(log_size)
        self.log.protocol = "socket.io"
        if redis_url:
            # Rooms and broadcasts shared with every server on the same Redis (python-socketio's manager).
            options.setdefault("client_manager", socketio.AsyncRedisManager(redis_url))
        options.setdefault("serializer", _bounded_packet(max_attachments))
        self._logger, self._tap = _tap(self.log, "server")
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins=cors_allowed_origins,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_http_buffer_size=max_http_buffer_size,
            logger=False,
            engineio_logger=self._logger,
            **options,
        )
        self._tap.alive = lambda: self.sio.eio.sockets
        self.sio.eio.create_queue = self._bounded_queue  # each session's outgoing queue (its only use on a server)
        self._upgrades: dict[str, asyncio.BaseTransport] = {}  # session → the connection it upgraded to WebSocket on
        self._forget_ended_sessions()
        self._tasks = self._track_tasks()
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.base_events.Server | None = None
        self._connections: weakref.WeakSet[_Counted] = weakref.WeakSet()
        try:
            self._go_live(name, lambda: self._start(port))
        except BaseException:
            _untap(self._logger, self._tap)
            raise

    def _bounded_queue(self, *args: Any, **kwargs: Any) -> _BoundedQueue:
        log, limit = self.log, self.max_queue_bytes

        def overflow(queue: _BoundedQueue, count: int, held: int) -> None:
            log.add("event", "ERROR", info=f"a client did not take its packets: {count} waiting ({held:,} bytes), "
                    f"and one more would pass max_queue_bytes={limit:,}; its session is closed")
            self._tasks.add(asyncio.get_running_loop().create_task(self._drop_session(queue)))

        return _BoundedQueue(limit, overflow)

    async def _drop_session(self, queue: _BoundedQueue) -> None:
        """End the session whose queue overflowed, and cut its connection (its writer may be stuck in a send)."""
        eio = self.sio.eio
        sid = next((sid for sid, socket in list(eio.sockets.items()) if socket.queue is queue), None)
        if sid is None:
            return
        transport = self._upgrades.get(sid)
        if transport is None:  # a WebSocket-only session: its one request is the connection
            request = self.sio.environ.get(sid, {}).get("aiohttp.request")
            if request is not None and request.query.get("transport") == "websocket":
                transport = request.transport  # (a polling request's connection may be shared: left alone)
        try:
            await eio.sockets[sid].close(wait=False, abort=True)  # the disconnect handlers run
        except Exception as exc:  # pragma: no cover - a failing disconnect handler must not keep the session
            self.log.add("event", "ERROR", info=f"closing an overflowed session: {exc!r}")
        finally:
            if transport is not None:
                transport.abort()

    def _forget_ended_sessions(self) -> None:
        """Have the tap forget each Engine.IO session as it ends (closed, or expired without a pong)."""
        handlers = self.sio.eio.handlers
        original = handlers.get("disconnect")
        tap = self._tap

        async def disconnect(sid: str, *args: Any) -> Any:
            try:
                if original is None:
                    return None
                result = original(sid, *args)
                return await result if inspect.isawaitable(result) else result
            finally:
                tap.forget(sid)
                if tap.sessions > 2 * len(self.sio.eio.sockets) + 64:  # some were numbered after they ended
                    tap.tidy()

        handlers["disconnect"] = disconnect

    def _track_tasks(self) -> weakref.WeakSet[asyncio.Future[Any]]:
        """Keep (weakly) the background tasks Engine.IO starts, so that :meth:`stop` can end them.

        Each session's ping task sleeps ``ping_interval`` between pings, and would hold the whole server
        (and its log) that long after a stop.
        """
        tasks: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()
        start = self.sio.eio.start_background_task

        def tracked(target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            task = start(target, *args, **kwargs)
            if isinstance(task, asyncio.Future):
                tasks.add(task)
            return task

        self.sio.eio.start_background_task = tracked
        return tasks

    async def _start(self, port: int) -> None:
        limit = self.max_http_buffer_size

        limit, log, sio = self.max_http_buffer_size, self.log, self.sio

        async def engineio(request: web.Request) -> web.StreamResponse:
            # python-engineio drops a POST body over max_http_buffer_size with no answer: answer it here, before
            # anything is read, with 413 Content Too Large. (A route of our own, not a middleware: aiohttp caches
            # middleware chains globally, which would keep every server alive.)
            if request.method == "POST" and (request.content_length or 0) > limit:
                log.add("event", "REJECTED", code=413,
                        info=f"a {request.content_length}-byte POST; at most {limit} bytes are accepted")
                return web.Response(status=413, text=f"Engine.IO: a POST body is limited to {limit} bytes\n")
            query, sid = request.query, request.query.get("sid")
            # an upgrade to WebSocket: its connection, to cut should the client stop taking its packets. Kept
            # while the request lasts (a WebSocket's request lasts as long as the WebSocket), so refused or
            # repeated upgrades leave nothing behind.
            mine = query.get("transport") == "websocket" and sid in sio.eio.sockets and sid not in upgrades
            if mine:
                upgrades[sid] = request.transport
            try:
                return await sio.handle_request(request)
            finally:
                if mine and upgrades.get(sid) is request.transport:
                    del upgrades[sid]

        upgrades = self._upgrades
        app = web.Application()
        for method in ("GET", "POST", "OPTIONS"):
            app.router.add_route(method, "/socket.io/", engineio)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        loop = asyncio.get_running_loop()
        factory = self._runner.server
        assert factory is not None
        connections = self._connections

        def counted() -> _Counted:
            connection = _Counted(factory(), log)
            connections.add(connection)
            return connection

        self._listener = await loop.create_server(counted, self.host, port)
        self.port: int = self._listener.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The raw WebSocket endpoint, for speaking Engine.IO by hand."""
        return f"{self.url.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket"

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def sessions(self) -> int:
        """How many Engine.IO sessions the traffic log still numbers (they are forgotten as they end)."""
        return self._tap.sessions

    # -- handlers --

    def on(self, event: str, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """Register ``handler`` for ``event`` (use as ``@srv.on("chat")``).

        ``connect`` handlers take ``(sid, environ, auth)``; raise
        ``wskit.SocketIORefused("reason")`` there to refuse a client.
        Event handlers take ``(sid, *args)``; what they return is sent back
        as the acknowledgement. An exception in a handler is written to the
        traffic log with its traceback, and the server goes on.
        """

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.sio.on(event, self._guard(event, function), namespace=namespace)
            return function

        return register(handler) if handler is not None else register

    def event(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``@srv.event`` registers a handler named after the event (``connect``, ``chat``...)."""
        return self.on(function.__name__, function)

    def _guard(self, event: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def report() -> None:
            self.log.add("event", "ERROR", info=f"handler for {event!r} raised:\n{traceback.format_exc()}")

        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def guarded(*args: Any) -> Any:
                try:
                    return await function(*args)
                except socketio.exceptions.ConnectionRefusedError:
                    raise
                except Exception:
                    report()
                    raise
        else:
            @functools.wraps(function)
            def guarded(*args: Any) -> Any:
                try:
                    return function(*args)
                except socketio.exceptions.ConnectionRefusedError:
                    raise
                except Exception:
                    report()
                    raise
        return guarded

    # -- from a cell or a handler --

    def emit(self, event: str, *args: Any, to: str | None = None, room: str | None = None,
             skip_sid: str | None = None, namespace: str | None = None) -> Any:
        """Emit ``event`` with ``args``: to everyone, one client (``to=sid``) or a room.

        In a cell it returns when sent; in a handler it returns an awaitable.
        """
        coro = self.sio.emit(event, _data(args), to=to, room=room, skip_sid=skip_sid, namespace=namespace)
        return _both_sides(coro, self.log, f"emit({event!r})", 10.0)

    def call(self, event: str, *args: Any, to: str, namespace: str | None = None,
             timeout: float | None = None) -> Any:
        """Emit ``event`` to one client and wait (up to ``timeout``, default 5 s) for its acknowledgement."""
        wait = 5.0 if timeout is None else timeout
        coro = self.sio.call(event, _data(args), to=to, namespace=namespace, timeout=wait)
        return _both_sides(coro, self.log, f"call({event!r})", wait + 1)

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> Any:
        """Put client ``sid`` in ``room`` (in a handler: ``await srv.enter_room(...)``)."""
        return _both_sides(self.sio.enter_room(sid, room, namespace=namespace), self.log, "enter_room", 10.0)

    def leave_room(self, sid: str, room: str, namespace: str | None = None) -> Any:
        """Take client ``sid`` out of ``room`` (in a handler: ``await srv.leave_room(...)``)."""
        return _both_sides(self.sio.leave_room(sid, room, namespace=namespace), self.log, "leave_room", 10.0)

    def rooms(self, sid: str, namespace: str | None = None) -> list[str]:
        """The rooms ``sid`` is in (each client is also in a room named after its sid).

        Read on the loop, which owns the rooms, so a cell never sees them change under it.
        """
        if _on_loop():
            return sorted(self.sio.rooms(sid, namespace=namespace))

        async def snapshot() -> list[str]:
            return sorted(self.sio.rooms(sid, namespace=namespace))

        return _loop.run(snapshot(), 10.0)

    # -- lifecycle --

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect every client and stop listening (safe to call twice)."""
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if runner is not None:
            async def close() -> None:
                if listener is not None:  # first stop listening, so that no client reconnects to us
                    listener.close()
                for connection in list(self._connections):  # drop them all at once, as a restart would: the
                    connection.abort()  # clients reconnect (an Engine.IO close would tell them not to)
                await self.sio.shutdown()
                await runner.cleanup()
                leftovers = [task for task in self._tasks if not task.done()]
                for task in leftovers:
                    task.cancel()
                await asyncio.gather(*leftovers, return_exceptions=True)
                if listener is not None:
                    await listener.wait_closed()

            try:
                self._stop_on_loop(close(), timeout)
            finally:
                _untap(self._logger, self._tap)
        else:
            _loop.unregister(self)

    def __repr__(self) -> str:
        state = f"{self.url} running" if self.running else "stopped"
        return f"<SocketIOServer {self.name!r} {state}>"


class SocketIORefused(LiveError, ConnectionError, socketio.exceptions.ConnectionRefusedError):
    """Raised by a server's ``connect`` handler to refuse a client; what a refused client gets."""

    def __init__(self, *args: Any) -> None:
        socketio.exceptions.ConnectionRefusedError.__init__(self, *args)
        ConnectionError.__init__(self, *args)


class SocketIOClient(_loop.LiveObject):
    """A python-socketio ``AsyncClient`` for plain cells.

    Args:
        url: the server's ``http://host:port``.
        name: re-creating a client of the same name disconnects the old one.
        namespaces: namespaces to connect to (default ``["/"]``); the first is
            the one :attr:`sid`, :attr:`connections` and :meth:`emit` use by default.
        auth: sent with the connection; the server's ``connect`` handler sees it.
        transports: ``["polling", "websocket"]`` (the default: start with long
            polling, then upgrade) or ``["websocket"]``.
        reconnection: reconnect with backoff when the connection drops.
        timeout: seconds for connecting and for each call.
        max_attachments: binary attachments one packet from the server may announce.

    Every event the client receives is queued for :meth:`recv` (at most :data:`MAX_INBOX` unread, the oldest
    dropped past that, counted in :attr:`dropped`);
    :meth:`on` adds a handler that runs as events arrive. :meth:`emit` and
    :meth:`call` have the server's signatures (without the addressing):
    ``emit(event, *args, namespace=)``, ``call(event, *args, namespace=, timeout=)``;
    in a cell they block, inside a handler they return an awaitable.
    :meth:`close` (or ``stop``, ``disconnect``) disconnects.

    Raises:
        SocketIORefused: the server refused the connection (its message names the namespace and the reason).
    """

    kind = "sio-client"

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        namespaces: list[str] | None = None,
        auth: Any = None,
        transports: list[str] | None = None,
        reconnection: bool = True,
        timeout: float = 5.0,
        log_size: int = 10_000,
        max_attachments: int = MAX_ATTACHMENTS,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.namespaces = list(namespaces or ["/"])
        self.log = TrafficLog(log_size)
        self.log.protocol = "socket.io"
        # (event, namespace, args, estimated bytes), oldest first, for recv(): bounded by MAX_INBOX/MAX_INBOX_BYTES
        self._inbox: collections.deque[tuple[str, str, tuple[Any, ...], int]] = collections.deque()
        self._inbox_bytes = 0
        self._inbox_changed = threading.Condition()
        self.dropped = 0  # events dropped unread from a full inbox
        self._taken = 0  # events recv() took
        self._refusals: list[tuple[str, Any]] = []
        self._logger, self._tap = _tap(self.log, "client")
        log = self.log
        self.sio = socketio.AsyncClient(
            reconnection=reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=2,
            logger=False,
            engineio_logger=self._logger,
            serializer=_bounded_packet(max_attachments),
            http_session=lambda: _counted_session(log),
        )
        self._up = threading.Event()  # set while the first namespace is connected, for wait_connected()
        self._connected_count = 0
        self._connect_changed = threading.Condition()
        self._sids: dict[str, str] = {}
        for namespace in self.namespaces:
            self.sio.on("*", functools.partial(self._queue, namespace), namespace=namespace)
            self.sio.on("connect_error", functools.partial(self._refused, namespace), namespace=namespace)
            self.on("connect", lambda: None, namespace=namespace)
            self.on("disconnect", lambda *reason: None, namespace=namespace)
        try:
            self._go_live(name, lambda: self._connect(auth, transports), timeout + 2)
        except BaseException:
            _untap(self._logger, self._tap)
            raise

    async def _connect(self, auth: Any, transports: list[str] | None) -> None:
        try:
            await asyncio.wait_for(
                self.sio.connect(self.url, auth=auth, namespaces=self.namespaces, transports=transports,
                                 wait_timeout=self.timeout),
                self.timeout + 1,
            )
        except TimeoutError:  # a server (or a proxy) that takes the request and never answers it
            with contextlib.suppress(Exception):
                await self.sio.disconnect()
            raise SocketIORefused(
                f"no Socket.IO session with {self.url} within {self.timeout:g} s: the server took the request and "
                "did not answer. Behind a load balancer, long polling needs sticky sessions (or connect with "
                "transports=['websocket'])."
            ) from None
        except socketio.exceptions.ConnectionError as exc:
            await self.sio.disconnect()
            if self._refusals:
                namespace, reason = self._refusals[-1]
                if isinstance(reason, dict):
                    reason = reason.get("message", reason)
                where = f" to namespace {namespace!r}" if namespace != "/" or len(self.namespaces) > 1 else ""
                message = f"the Socket.IO server refused the connection{where}: {reason}"
            else:
                message = f"the Socket.IO server refused the connection: {exc}"
            raise SocketIORefused(message) from None

    async def _queue(self, namespace: str, event: str, *args: Any) -> None:
        self._keep(event, namespace, args)

    def _keep(self, event: str, namespace: str, args: tuple[Any, ...]) -> None:
        """On the loop: keep an event for recv(); past the inbox's bounds the oldest unread go, and the log says so."""
        size = _estimate(args)
        dropped = 0
        with self._inbox_changed:
            self._inbox.append((event, namespace, args, size))
            self._inbox_bytes += size
            while len(self._inbox) > MAX_INBOX or (self._inbox_bytes > MAX_INBOX_BYTES and len(self._inbox) > 1):
                self._inbox_bytes -= self._inbox.popleft()[3]
                dropped += 1
            self.dropped += dropped
            self._inbox_changed.notify_all()
        if dropped and (self.dropped == dropped or self.dropped % 1000 < dropped):  # the first, then each 1,000th
            self.log.add("event", "ERROR", info=f"{self.dropped} received events were dropped unread: recv() keeps "
                         f"at most {MAX_INBOX} events ({MAX_INBOX_BYTES // 2**20} MiB); read them, or handle them "
                         "with .on(event)")

    async def _refused(self, namespace: str, data: Any = None) -> None:
        self._refusals.append((namespace, data))

    # -- from a cell --

    @property
    def sid(self) -> str | None:
        """The session id in the first namespace (``None`` while not connected)."""
        return self._sids.get(self.namespaces[0])

    @property
    def sids(self) -> dict[str, str]:
        """Namespace → this client's session id there, for the namespaces connected now."""
        return dict(self._sids)

    @property
    def connected(self) -> bool:
        return self.sio.connected

    @property
    def transport(self) -> str | None:
        """``"polling"`` or ``"websocket"``: what Engine.IO runs on now."""
        return self.sio.transport() if self.sio.connected else None

    def on(self, event: str, handler: Callable[..., Any] | None = None, *, namespace: str | None = None) -> Any:
        """Run ``handler(*args)`` as ``event`` arrives (``connect`` and ``disconnect`` too).

        ``namespace`` defaults to the client's first. Events with a handler are still queued for :meth:`recv`.
        """
        namespace = namespace or self.namespaces[0]

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            async def both(*args: Any) -> Any:
                if event == "connect":
                    self._sids[namespace] = self.sio.get_sid(namespace)
                    if namespace == self.namespaces[0]:
                        with self._connect_changed:
                            self._connected_count += 1
                            self._up.set()
                            self._connect_changed.notify_all()
                    self.log.add("event", "OPEN", info=f"{namespace} over {self.sio.transport()}")
                elif event == "disconnect":
                    self._sids.pop(namespace, None)
                    if namespace == self.namespaces[0]:
                        self._up.clear()
                    self.log.add("event", "CLOSED", info=f"{namespace} {' '.join(map(str, args))}".strip())
                else:
                    self._keep(event, namespace, args)
                result = function(*args)
                return await result if inspect.isawaitable(result) else result

            self.sio.on(event, both, namespace=namespace)
            return function

        return register(handler) if handler is not None else register

    def emit(self, event: str, *args: Any, namespace: str | None = None) -> Any:
        """Send an event with ``args`` (no acknowledgement asked)."""
        coro = self.sio.emit(event, _data(args), namespace=namespace or self.namespaces[0])
        return _both_sides(coro, self.log, f"emit({event!r})", self.timeout)

    def call(self, event: str, *args: Any, namespace: str | None = None, timeout: float | None = None) -> Any:
        """Send an event and wait for the server's acknowledgement; return its value."""
        wait = timeout or self.timeout
        coro = self.sio.call(event, _data(args), namespace=namespace or self.namespaces[0], timeout=wait)
        return _both_sides(coro, self.log, f"call({event!r})", wait + 1)

    def recv(self, event: str | None = None, timeout: float | None = 5.0) -> tuple[Any, ...]:
        """The next event received (of one name, if given), as ``(event, *args)``; waits up to ``timeout`` seconds
        (``None``: until one comes or the cell is interrupted).

        Events of other names stay, in the order they came, for the next :meth:`recv`. At most
        :data:`MAX_INBOX` events (:data:`MAX_INBOX_BYTES` of arguments) wait unread; past that the oldest are
        dropped, counted in :attr:`dropped` and reported in the log.

        Raises:
            TimeoutError: nothing came within ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        looked = 0  # events already looked at (and not wanted): only the new ones are looked at after a wait
        with self._inbox_changed:
            while True:
                inbox = self._inbox
                for i in range(min(looked, len(inbox)), len(inbox)):
                    name, _namespace, args, size = inbox[i]
                    if event is None or name == event:
                        del inbox[i]
                        self._inbox_bytes -= size
                        self._taken += 1
                        return (name, *args)
                dropped, taken = self.dropped, self._taken
                remaining = 1.0 if deadline is None else deadline - time.monotonic()  # (None: a second at a time)
                if remaining <= 0:
                    raise TimeoutError(f"no {event or 'event'!r} received within {timeout} s")
                looked = len(inbox)
                self._inbox_changed.wait(remaining)
                # those dropped meanwhile left from the front; one another recv() took may have been anywhere
                looked = 0 if self._taken != taken else max(0, looked - (self.dropped - dropped))

    @property
    def connections(self) -> int:
        """How many times this client has connected (to its first namespace) so far, reconnections included."""
        return self._connected_count

    def wait_connected(self, timeout: float = 10.0, *, after: int | None = None) -> None:
        """Wait until the client is connected; with ``after=n``, until its connection number n + 1.

        Take ``n = client.connections`` before a server restarts, so that the
        old connection (whose end the client may not have noticed yet) does not count.

        Raises:
            TimeoutError: it did not (re)connect within ``timeout`` seconds.
        """
        want = 1 if after is None else after + 1
        with self._connect_changed:
            if not self._connect_changed.wait_for(
                lambda: self._connected_count >= want and self._up.is_set(), timeout
            ):
                raise TimeoutError(f"not (re)connected within {timeout} s")

    def disconnect(self) -> None:
        """Disconnect (safe to call twice)."""
        try:
            if self._logger.handlers:  # shutdown, not disconnect: it also stops a reconnection under way
                _loop.run(self.sio.shutdown(), self.timeout)
        finally:
            _untap(self._logger, self._tap)
            _loop.unregister(self)

    stop = close = disconnect

    def __repr__(self) -> str:
        state = f"connected over {self.transport}" if self.connected else "disconnected"
        return f"<SocketIOClient {self.name!r} {self.url} {state}>"
