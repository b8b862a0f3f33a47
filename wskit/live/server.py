"""WebSocket servers that run inside the kernel, on the shared wskit loop.

>>> import wskit
>>> srv = wskit.EchoServer()          # listening when this returns
>>> srv.url                           # doctest: +ELLIPSIS
'ws://127.0.0.1:...'
>>> srv.stop()

The protocol work is done by the real ``websockets`` library. wskit adds
the course's glue: a free port on loopback, a traffic log of every frame and
handshake, a ``426 Upgrade Required`` naming the version it speaks for a wrong
version, replace on re-run and :func:`wskit.stop_all`; and the guards a server
a learner points experiments at needs: a handler that raises anything
(``SystemExit`` included) closes only its own connection (1011), a peer that
stops reading is dropped after ``write_timeout`` seconds, and :meth:`Server.stop`
never raises because a peer is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http
import inspect
import itertools
import ssl as ssl_module
import sys
import time
import traceback
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse

from . import loop as _loop
from ._headers import compact_headers
from ._traffic import LoggedServerConnection, to_request, to_response
from .log import TrafficLog

__all__ = ["EchoServer", "Handler", "Server", "format_url"]

Handler = Callable[[ServerConnection], Awaitable[None]]


def format_url(scheme: str, host: str, port: int) -> str:
    """``scheme://host:port/``, the one URL form every wskit server shows (IPv6 hosts in brackets)."""
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}/"


def _all_connections(server: Any) -> set[Any]:
    """Every connection of a ``websockets`` server, closing ones included (``.connections`` lists open ones)."""
    return set(getattr(server, "all_connections", None) or server.connections)


class Server(_loop.LiveObject):
    """A WebSocket server running your own async handler.

    The handler is called once per connection with the ``websockets``
    connection object (``await ws.send(...)``, ``await ws.recv()``,
    ``async for message in ws``). When it returns, the connection closes.

    Args:
        handler: ``async def handler(ws): ...``
        host: the address to listen on; loopback unless you say otherwise.
        port: the port; 0 picks a free one.
        name: re-creating a server with the name of a running one replaces
            it. At the top level of a notebook cell the name defaults to the
            cell, so re-running the cell replaces its server.
        origins: if given, the only ``Origin`` values allowed (others get
            403); put ``None`` in the list to allow clients that send none.
        subprotocols: subprotocols the server accepts, in its order of
            preference.
        compression: ``None`` (off, so frames show their plain bytes) or
            ``"deflate"`` for permessage-deflate.
        max_size: the largest message accepted, in bytes; bigger ones close
            the connection with 1009.
        ping_interval: seconds between keepalive pings (``None``: never).
        ping_timeout: seconds to wait for a pong before failing the connection (``None``: for ever).
        open_timeout: seconds a client has to finish its handshake.
        log_size: traffic records kept.
        token: if given, clients must present it (``Authorization: Bearer``
            header, or ``?token=`` in the URL): missing → 401, wrong → 403.
        ssl: a server ``ssl.SSLContext`` to serve ``wss://``
            (:func:`wskit.live.tls.local_tls` makes one for this machine).
        write_timeout: seconds a peer may leave data we sent it unread (our
            send buffer never empties) before it is dropped; 30 s by default,
            ``None`` never drops it. A slow reader cannot pin memory for ever.

    A handler that raises, whatever it raises (``SystemExit`` and
    ``KeyboardInterrupt`` included), closes its own connection with 1011 and
    leaves an ``ERROR`` record with the traceback in :attr:`log`; the other
    connections, and every other server on the loop, go on.

    Attributes:
        url: ``ws://host:port/`` to connect to.
        port: the port it listens on.
        log: the :class:`~wskit.live.log.TrafficLog` of every connection.
        connections: how many WebSocket connections are open now.
    """

    kind = "server"

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str | None = None,
        origins: Iterable[str | None] | None = None,
        subprotocols: Iterable[str] | None = None,
        compression: str | None = None,
        max_size: int | None = 2**20,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float | None = 10.0,
        log_size: int = 10_000,
        token: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        write_timeout: float | None = 30.0,
    ) -> None:
        if not (inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__)):
            raise TypeError(
                f"handler must be an async function, 'async def handler(ws): ...'; got {handler!r}"
            )
        self.handler = handler
        self.host = host
        self.token = token
        self.ssl = ssl
        self.log = TrafficLog(log_size)
        self.write_timeout = write_timeout
        self._conn_ids = itertools.count(1)
        self._server: websockets.asyncio.server.Server | None = None
        self._guard: asyncio.Task[None] | None = None
        self._options: dict[str, Any] = dict(
            origins=list(origins) if origins is not None else None,
            subprotocols=list(subprotocols) if subprotocols is not None else None,
            compression=compression,
            max_size=max_size,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            ssl=ssl,
        )
        self._go_live(name, lambda: self._start(port))

    # -- lifecycle --

    async def _start(self, port: int) -> None:
        def connection_factory(*args: Any, **kwargs: Any) -> LoggedServerConnection:
            connection = LoggedServerConnection(*args, **kwargs)
            connection.wskit_attach(self.log, next(self._conn_ids))
            return connection

        self._server = await serve(
            self._handle,
            self.host,
            port,
            create_connection=connection_factory,
            process_request=self._process_request,
            process_response=self._process_response,
            **self._options,
        )
        self.port: int = self._server.sockets[0].getsockname()[1]
        if self.write_timeout is not None:
            self._guard = asyncio.get_running_loop().create_task(self._drop_slow_readers(self._server))

    async def _drop_slow_readers(self, server: Any) -> None:
        """Every second or so: drop each peer whose send buffer has not emptied for ``write_timeout`` s."""
        assert self.write_timeout is not None
        since: dict[Any, float] = {}
        every = min(1.0, self.write_timeout / 4)
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            connections = _all_connections(server)
            for ws in list(connections):
                transport = ws.transport
                if transport is None or transport.is_closing() or not transport.get_write_buffer_size():
                    since.pop(ws, None)
                    continue
                first = since.setdefault(ws, now)
                if now - first >= self.write_timeout:
                    since.pop(ws, None)
                    self.log.add(
                        "event", "ERROR", conn=getattr(ws, "wskit_conn", 0),
                        info=f"write timeout: the peer left {transport.get_write_buffer_size():,} bytes unread "
                             f"for {self.write_timeout:g} s; connection dropped",
                    )
                    transport.abort()
            for ws in [ws for ws in since if ws not in connections]:
                del since[ws]

    @property
    def url(self) -> str:
        """``ws://host:port/`` (``wss://`` with TLS)."""
        return format_url("wss" if self.ssl else "ws", self.host, self.port)

    @property
    def running(self) -> bool:
        """The server is accepting connections."""
        return self._server is not None and self._server.is_serving()

    @property
    def connections(self) -> int:
        """How many WebSocket connections are open now."""
        server = self._server
        if server is None:
            return 0
        open_ = websockets.protocol.State.OPEN  # a copy first: the loop thread changes the set meanwhile
        return sum(1 for ws in _all_connections(server) if ws.protocol.state is open_)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close every connection with 1001 (going away).

        Never raises because a peer is slow: connections that have not
        closed within ``timeout`` seconds (a peer that stopped reading cannot
        take the close frame) are dropped, and a warning says how many.
        Safe to call twice.
        """
        server, self._server = self._server, None
        guard, self._guard = self._guard, None
        if server is None:
            _loop.unregister(self)
            return
        dropped: list[int] = []

        async def close() -> None:
            if guard is not None:
                guard.cancel()
            server.close()
            try:
                await asyncio.wait_for(asyncio.shield(server.wait_closed()), timeout)
            except TimeoutError:
                for ws in list(_all_connections(server)):  # closing ones too: a non-reader never finishes closing
                    dropped.append(getattr(ws, "wskit_conn", 0))
                    if ws.transport is not None:
                        ws.transport.abort()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server.wait_closed(), 1.0)

        try:
            self._stop_on_loop(close(), timeout + 2)
        except (TimeoutError, _loop.LiveError) as exc:  # a wedged loop: report, never raise
            print(f"wskit: stopping {self.name!r}: {exc}", file=sys.stderr)
        if dropped:
            message = (f"wskit: {self.name!r} stopped; {len(dropped)} connection(s) did not close within "
                       f"{timeout:g} s (a peer that stopped reading) and were dropped: {dropped}")
            self.log.add("event", "ERROR", info=message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def __repr__(self) -> str:
        state = f"{self.url} running, {self.connections} open" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} {state}>"

    # -- the handshake --

    def _process_request(self, connection: ServerConnection, request: WSRequest) -> WSResponse | None:
        # websockets answers any unsupported version with 400 and no version header. What RFC 6455
        # requires is that the refusal carry Sec-WebSocket-Version with the version(s) the server speaks
        # (§4.4; §4.2.2 names 426 as one appropriate status, §4.4's own example answers 400). We answer
        # 426 Upgrade Required, which RFC 9110 §15.5.22 says MUST carry an Upgrade header: we add it.
        versions = request.headers.get_all("Sec-WebSocket-Version")
        if versions and versions != ["13"]:
            response = connection.respond(
                http.HTTPStatus.UPGRADE_REQUIRED,
                f"Failed to open a WebSocket connection: unsupported "
                f"Sec-WebSocket-Version {', '.join(versions)}; this server speaks 13.\n",
            )
            response.headers["Upgrade"] = "websocket"
            response.headers["Sec-WebSocket-Version"] = "13"
            return response
        if self.token is not None:
            return self._check_token(connection, request)
        return None

    def _check_token(self, connection: ServerConnection, request: WSRequest) -> WSResponse | None:
        """A token in ``Authorization: Bearer ...`` or, for browsers (which cannot set headers), ``?token=``."""
        assert self.token is not None
        offered = None
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            offered = authorization[7:].strip()
        else:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
            offered = query.get("token", [None])[0]
        if offered is None:
            response = connection.respond(
                http.HTTPStatus.UNAUTHORIZED,
                "Failed to open a WebSocket connection: a token is needed "
                "(Authorization: Bearer <token>, or ?token=<token> in the URL).\n",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="wskit"'
            return response
        if not hmac.compare_digest(offered.encode(), self.token.encode()):
            return connection.respond(
                http.HTTPStatus.FORBIDDEN, "Failed to open a WebSocket connection: the token is not valid.\n"
            )
        return None

    def _process_response(
        self, connection: ServerConnection, request: WSRequest, response: WSResponse
    ) -> None:
        # OPEN and REJECTED are logged as the response goes out (see LoggedServerConnection).
        self.log.add_handshake(connection.wskit_conn, to_request(request), to_response(response))  # type: ignore[attr-defined]
        compact_headers(request.headers)  # kept for the connection's life (ws.request.headers)
        compact_headers(response.headers)

    # -- each connection --

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            await self.handler(ws)
        except websockets.ConnectionClosed:
            pass  # the peer went away: not an error of the handler
        except asyncio.CancelledError:
            raise  # the server is stopping
        except BaseException as exc:  # SystemExit, KeyboardInterrupt too: they must not kill the loop
            # A bug in a learner's handler: show it in the log, close this connection only, keep serving.
            self.log.add(
                "event",
                "ERROR",
                conn=ws.wskit_conn,  # type: ignore[attr-defined]
                info=traceback.format_exc(),
            )
            try:
                await asyncio.wait_for(ws.close(1011, f"handler raised {type(exc).__name__}"[:120]), 5.0)
            except (TimeoutError, websockets.ConnectionClosed):
                if ws.transport is not None:
                    ws.transport.abort()


async def _echo(ws: ServerConnection) -> None:
    # A loop, not ``async for message in ws``: its async generator cost every idle connection ~250 bytes, and
    # every message a step more. The close ends it the same way: ConnectionClosed, which _handle takes.
    while True:
        await ws.send(await ws.recv())


class EchoServer(Server):
    """A server that sends every message back to its sender, unchanged.

    Takes the same keyword arguments as :class:`Server`.
    """

    kind = "echo"

    def __init__(self, **options: Any) -> None:
        super().__init__(_echo, **options)
