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
which :func:`wskit.codec.socketio.describe` decodes.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import web

from ..codec.socketio import ENGINEIO_TYPES
from . import loop as _loop
from .log import TrafficLog

__all__ = ["SocketIOServer", "SocketIOClient", "SocketIORefused"]

_CODES = {name: code for code, name in ENGINEIO_TYPES.items()}
_PACKET = {"Sending packet %s data %s": "sent", "Received packet %s data %s": "received"}
_SERVER_PACKET = {"%s: " + k: v for k, v in _PACKET.items()}


class _EngineIOTap(logging.Handler):
    """Turns Engine.IO's packet log lines into traffic-log records."""

    def __init__(self, log: TrafficLog) -> None:
        super().__init__(logging.INFO)
        self.log = log
        self._conns: dict[str, int] = {}
        self._ids = itertools.count(1)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message, args = record.msg, record.args or ()
            if message in _SERVER_PACKET:
                sid, kind, data = args  # type: ignore[misc]
                if sid not in self._conns:
                    self._conns[sid] = next(self._ids)
                direction, conn = _SERVER_PACKET[message], self._conns[sid]
            elif message in _PACKET:
                (kind, data), direction, conn = args, _PACKET[message], 0  # type: ignore[misc]
            else:
                note = record.getMessage()
                if not note.startswith("Server initialized"):
                    self.log.add("event", "NOTE", info=note)
                return
            if isinstance(data, dict):
                text = json.dumps(data, separators=(",", ":"))
            else:
                text = "" if data is None else str(data)
            wire = f"{_CODES.get(kind, '?')}{text}"
            self.log.add(direction, kind, size=len(wire.encode()), data=wire, conn=conn)
        except Exception:  # never let logging break the connection
            self.handleError(record)


def _tap(log: TrafficLog, name: str) -> logging.Logger:
    logger = logging.getLogger(f"wskit.engineio.{name}.{id(log)}")
    logger.handlers[:] = [_EngineIOTap(log)]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


class SocketIOServer(_loop.LiveObject):
    """A python-socketio ``AsyncServer`` on aiohttp, on 127.0.0.1 and a free port.

    Args:
        host: the address to listen on (loopback by default).
        port: the port; 0 picks a free one (give the old port to restart in place).
        name: re-creating a server of the same name replaces it.
        cors_allowed_origins: origins browsers may connect from (``"*"``: any).
        ping_interval, ping_timeout: Engine.IO's heartbeat, in seconds.
        redis_url: share rooms and broadcasts with other server processes through
            this Redis (python-socketio's ``AsyncRedisManager``).
        options: more ``socketio.AsyncServer`` options.

    Attributes:
        sio: the real ``socketio.AsyncServer``; in handlers, ``await srv.sio.emit(...)``.
        url: ``http://host:port`` (Socket.IO clients take an HTTP URL).
        log: Engine.IO packets in and out, and handler errors.
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
        log_size: int = 10_000,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        self.host = host
        self.redis_url = redis_url
        self.log = TrafficLog(log_size)
        self.log.protocol = "socket.io"
        if redis_url:
            # Rooms and broadcasts shared with every server on the same Redis (python-socketio's manager).
            options.setdefault("client_manager", socketio.AsyncRedisManager(redis_url))
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins=cors_allowed_origins,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            logger=False,
            engineio_logger=_tap(self.log, "server"),
            **options,
        )
        self._runner: web.AppRunner | None = None
        self._go_live(name, lambda: self._start(port))

    async def _start(self, port: int) -> None:
        app = web.Application()
        self.sio.attach(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port).start()
        self.port: int = self._runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The raw WebSocket endpoint, for speaking Engine.IO by hand."""
        return f"ws://{self.host}:{self.port}/socket.io/?EIO=4&transport=websocket"

    @property
    def running(self) -> bool:
        return self._runner is not None

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

    # -- from a cell --

    def emit(self, event: str, data: Any = None, *, to: str | None = None, room: str | None = None,
             skip_sid: str | None = None, namespace: str | None = None) -> None:
        """Emit from a cell: to everyone, one client (``to=sid``) or a room."""
        _loop.run(self.sio.emit(event, data, to=to, room=room, skip_sid=skip_sid, namespace=namespace))

    def call(self, event: str, data: Any = None, *, to: str, namespace: str | None = None,
             timeout: float = 5) -> Any:
        """Emit to one client and wait for its acknowledgement."""
        return _loop.run(self.sio.call(event, data, to=to, namespace=namespace, timeout=timeout), timeout + 1)

    def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        _loop.run(self.sio.enter_room(sid, room, namespace=namespace))

    def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None:
        _loop.run(self.sio.leave_room(sid, room, namespace=namespace))

    def rooms(self, sid: str, namespace: str | None = None) -> list[str]:
        """The rooms ``sid`` is in (each client is also in a room named after its sid)."""
        return sorted(self.sio.rooms(sid, namespace=namespace))

    # -- lifecycle --

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect every client and stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            async def close() -> None:
                for site in list(runner.sites):  # first stop listening, so that no client reconnects to us
                    await site.stop()
                await self.sio.shutdown()
                await runner.cleanup()

            self._stop_on_loop(close(), timeout)

    def __repr__(self) -> str:
        state = f"{self.url} running" if self.running else "stopped"
        return f"<SocketIOServer {self.name!r} {state}>"


class SocketIORefused(ConnectionError, socketio.exceptions.ConnectionRefusedError):
    """Raised by a server's ``connect`` handler to refuse a client; what a refused client gets."""

    def __init__(self, *args: Any) -> None:
        socketio.exceptions.ConnectionRefusedError.__init__(self, *args)
        ConnectionError.__init__(self, *args)


class SocketIOClient(_loop.LiveObject):
    """A python-socketio ``AsyncClient`` for plain cells.

    Args:
        url: the server's ``http://host:port``.
        name: re-creating a client of the same name disconnects the old one.
        namespaces: namespaces to connect to (default ``["/"]``).
        auth: sent with the connection; the server's ``connect`` handler sees it.
        transports: ``["polling", "websocket"]`` (the default: start with long
            polling, then upgrade) or ``["websocket"]``.
        reconnection: reconnect with backoff when the connection drops.
        timeout: seconds for connecting and for each call.

    Every event the client receives is queued for :meth:`recv`;
    :meth:`on` adds a handler that runs as events arrive.

    Raises:
        SocketIORefused: the server refused the connection (with its reason).
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
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.namespaces = namespaces or ["/"]
        self.log = TrafficLog(log_size)
        self.log.protocol = "socket.io"
        self._inbox: queue.Queue[tuple[str, str, tuple[Any, ...]]] = queue.Queue()
        self._refusals: list[Any] = []
        self.sio = socketio.AsyncClient(
            reconnection=reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=2,
            logger=False,
            engineio_logger=_tap(self.log, "client"),
        )
        self._up = threading.Event()  # set while connected, for wait_connected()
        self._connected_count = 0
        self._connect_changed = threading.Condition()
        for namespace in self.namespaces:
            self.sio.on("*", functools.partial(self._queue, namespace), namespace=namespace)
            self.sio.on("connect_error", self._refused, namespace=namespace)
        self.on("connect", lambda: None)
        self.on("disconnect", lambda *reason: None)
        self._go_live(name, lambda: self._connect(auth, transports), timeout + 2)

    async def _connect(self, auth: Any, transports: list[str] | None) -> None:
        try:
            await self.sio.connect(self.url, auth=auth, namespaces=self.namespaces, transports=transports,
                                   wait_timeout=self.timeout)
        except socketio.exceptions.ConnectionError as exc:
            await self.sio.disconnect()
            reason = self._refusals[-1] if self._refusals else str(exc)
            if isinstance(reason, dict):
                reason = reason.get("message", reason)
            raise SocketIORefused(f"the Socket.IO server refused the connection: {reason}") from None

    async def _queue(self, namespace: str, event: str, *args: Any) -> None:
        self._inbox.put((event, namespace, args))

    async def _refused(self, data: Any = None) -> None:
        self._refusals.append(data)

    # -- from a cell --

    @property
    def sid(self) -> str | None:
        return self.sio.get_sid()

    @property
    def connected(self) -> bool:
        return self.sio.connected

    @property
    def transport(self) -> str | None:
        """``"polling"`` or ``"websocket"``: what Engine.IO runs on now."""
        return self.sio.transport() if self.sio.connected else None

    def on(self, event: str, handler: Callable[..., Any] | None = None, *, namespace: str = "/") -> Any:
        """Run ``handler(*args)`` as ``event`` arrives (``connect`` and ``disconnect`` too).

        Events with a handler are still queued for :meth:`recv`.
        """

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            async def both(*args: Any) -> Any:
                if event == "connect":
                    with self._connect_changed:
                        self._connected_count += 1
                        self._up.set()
                        self._connect_changed.notify_all()
                    self.log.add("event", "OPEN", info=f"{namespace} over {self.sio.transport()}")
                elif event == "disconnect":
                    self._up.clear()
                    self.log.add("event", "CLOSED", info=f"{namespace} {' '.join(map(str, args))}".strip())
                else:
                    self._inbox.put((event, namespace, args))
                result = function(*args)
                return await result if inspect.isawaitable(result) else result

            self.sio.on(event, both, namespace=namespace)
            return function

        return register(handler) if handler is not None else register

    def emit(self, event: str, *args: Any, namespace: str | None = None) -> None:
        """Send an event (no acknowledgement asked)."""
        _loop.run(self.sio.emit(event, args if len(args) != 1 else args[0], namespace=namespace), self.timeout)

    def call(self, event: str, *args: Any, namespace: str | None = None, timeout: float | None = None) -> Any:
        """Send an event and wait for the server's acknowledgement; return its value."""
        wait = timeout or self.timeout
        data = args if len(args) != 1 else args[0]
        return _loop.run(self.sio.call(event, data, namespace=namespace, timeout=wait), wait + 1)

    def recv(self, event: str | None = None, timeout: float = 5.0) -> tuple[Any, ...]:
        """The next event received (of one name, if given), as ``(event, *args)``.

        Raises:
            TimeoutError: nothing came within ``timeout`` seconds.
        """
        skipped = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    name, _namespace, args = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise TimeoutError(f"no {event or 'event'!r} received within {timeout} s") from None
                if event is None or name == event:
                    return (name, *args)
                skipped.append((name, _namespace, args))
        finally:
            for item in skipped:  # keep the others, in order, for the next recv
                self._inbox.put(item)

    @property
    def connections(self) -> int:
        """How many times this client has connected so far (reconnections included)."""
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
            _loop.run(self.sio.disconnect(), self.timeout)
        finally:
            _loop.unregister(self)

    stop = close = disconnect

    def __repr__(self) -> str:
        state = f"connected over {self.transport}" if self.connected else "disconnected"
        return f"<SocketIOClient {self.name!r} {self.url} {state}>"
