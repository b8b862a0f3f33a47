"""WebSocket servers that run inside the kernel, on the shared wskit loop.

>>> import wskit
>>> srv = wskit.EchoServer()          # listening when this returns
>>> srv.url                           # doctest: +ELLIPSIS
'ws://127.0.0.1:...'
>>> srv.stop()

The protocol work is done by the real ``websockets`` library. wskit adds
the course's glue: a free port on loopback, a traffic log of every frame and
handshake, RFC 6455's ``426 Upgrade Required`` for a wrong version, replace
on re-run and :func:`wskit.stop_all`.
"""

from __future__ import annotations

import hmac
import http
import inspect
import itertools
import ssl as ssl_module
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse

from . import loop as _loop
from ._traffic import LoggedServerConnection, to_request, to_response
from .log import TrafficLog

__all__ = ["EchoServer", "Handler", "Server"]

Handler = Callable[[ServerConnection], Awaitable[None]]


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
        open_timeout: seconds a client has to finish its handshake.
        log_size: traffic records kept.
        token: if given, clients must present it (``Authorization: Bearer``
            header, or ``?token=`` in the URL): missing → 401, wrong → 403.
        ssl: a server ``ssl.SSLContext`` to serve ``wss://``
            (:func:`wskit.live.tls.local_tls` makes one for this machine).

    Attributes:
        url: ``ws://host:port/`` to connect to.
        port: the port it listens on.
        log: the :class:`~wskit.live.log.TrafficLog` of every connection.
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
        open_timeout: float | None = 10.0,
        log_size: int = 10_000,
        token: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
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
        self._conn_ids = itertools.count(1)
        self._server: websockets.asyncio.server.Server | None = None
        self._options: dict[str, Any] = dict(
            origins=list(origins) if origins is not None else None,
            subprotocols=list(subprotocols) if subprotocols is not None else None,
            compression=compression,
            max_size=max_size,
            ping_interval=ping_interval,
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

    @property
    def url(self) -> str:
        """``ws://host:port/`` (``wss://`` with TLS)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self.ssl else 'ws'}://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        """The server is accepting connections."""
        return self._server is not None and self._server.is_serving()

    @property
    def connections(self) -> int:
        """How many WebSocket connections are open now."""
        return len(self._server.connections) if self._server is not None else 0

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close every connection with 1001 (going away).

        Safe to call twice.
        """
        server, self._server = self._server, None
        if server is not None:
            async def close() -> None:
                server.close()
                await server.wait_closed()

            self._stop_on_loop(close(), timeout)

    def __repr__(self) -> str:
        state = f"{self.url} running, {self.connections} open" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} {state}>"

    # -- the handshake --

    def _process_request(self, connection: ServerConnection, request: WSRequest) -> WSResponse | None:
        # websockets answers any unsupported version with 400 and no hint;
        # RFC 6455 §4.4 asks for 426 and the version the server speaks.
        versions = request.headers.get_all("Sec-WebSocket-Version")
        if versions and versions != ["13"]:
            response = connection.respond(
                http.HTTPStatus.UPGRADE_REQUIRED,
                f"Failed to open a WebSocket connection: unsupported "
                f"Sec-WebSocket-Version {', '.join(versions)}; this server speaks 13.\n",
            )
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

    # -- each connection --

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            await self.handler(ws)
        except websockets.ConnectionClosed:
            pass  # the peer went away: not an error of the handler
        except Exception as exc:
            # A bug in a learner's handler: show it in the log, keep serving.
            self.log.add(
                "event",
                "ERROR",
                conn=ws.wskit_conn,  # type: ignore[attr-defined]
                info=traceback.format_exc(),
            )
            await ws.close(1011, f"handler raised {type(exc).__name__}"[:120])


async def _echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


class EchoServer(Server):
    """A server that sends every message back to its sender, unchanged.

    Takes the same keyword arguments as :class:`Server`.
    """

    kind = "echo"

    def __init__(self, **options: Any) -> None:
        super().__init__(_echo, **options)
