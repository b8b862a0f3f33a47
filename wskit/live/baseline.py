"""The baselines a WebSocket is measured against, on the same wskit loop.

* :class:`TCPEchoServer` — bytes back as they come: the floor under every
  protocol built on TCP.
* :class:`PushServer` — one stream of events served five ways at once: HTTP
  short polling (``GET /poll``), HTTP long polling (``GET /wait``),
  Server-Sent Events (``GET /events``), a WebSocket that pushes each event
  (:attr:`PushServer.ws_url`), and a plain request/response echo
  (``POST /echo``). The HTTP side is ``aiohttp``; the WebSocket side is a
  :class:`~wskit.live.server.Server` (``websockets``).
* :class:`HTTPClient` — a small HTTP/1.1 client over a raw asyncio
  connection that counts every byte on the wire, headers included, so that
  the transports can be compared byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import h11
from aiohttp import web

from ..codec import sse
from ..codec.handshake import Headers, Response
from . import loop as _loop
from .errors import LiveError
from .server import Server, format_url

__all__ = ["TCPEchoServer", "PushServer", "Event", "HTTPClient"]


class TCPEchoServer(_loop.LiveObject):
    """Echoes every byte on a plain TCP connection; no protocol at all.

    Attributes:
        url: ``tcp://127.0.0.1:port/`` (a :class:`~wskit.live.raw.RawSocket` takes it).
        port: the port.
        bytes_echoed: bytes echoed so far, all connections.
    """

    kind = "tcp-echo"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, name: str | None = None) -> None:
        self.host = host
        self.bytes_echoed = 0
        self._server: asyncio.Server | None = None
        self._go_live(name, lambda: self._start(port))

    async def _start(self, port: int) -> None:
        self._server = await asyncio.start_server(self._echo, self.host, port)
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _loop.read_small(writer.transport)  # as the WebSocket servers read: a fair baseline
        try:
            while data := await reader.read(65536):
                self.bytes_echoed += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        """``tcp://host:port/``."""
        return format_url("tcp", self.host, self.port)

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and drop every connection."""
        server, self._server = self._server, None
        if server is not None:
            async def close() -> None:
                server.close()
                if hasattr(server, "close_clients"):  # Python 3.13+
                    server.close_clients()
                try:
                    await asyncio.wait_for(server.wait_closed(), timeout)
                except TimeoutError:  # never raise because a peer is slow: it is dropped with the loop
                    print(f"wskit: {self.name!r}: connections still open after {timeout} s", file=sys.stderr)

            self._stop_on_loop(close(), timeout + 1)

    def __repr__(self) -> str:
        state = f"{self.url} running" if self.running else "stopped"
        return f"<TCPEchoServer {self.name!r} {state}>"


@dataclasses.dataclass(frozen=True)
class Event:
    """One published event: its number, when it was published, its data."""

    id: int
    time: float
    data: str

    def __post_init__(self) -> None:
        self.to_sse()  # a CR in the data raises UsageError here, not in the middle of a stream

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "data": self.data})

    def to_sse(self) -> bytes:
        """The event as Server-Sent Events write it: ``id: N``, then a ``data:`` line per line."""
        return sse.Event(self.data, id=str(self.id)).to_bytes()


class PushServer(_loop.LiveObject):
    """The same events, pushed (or polled) five ways.

    Args:
        host: the address to listen on (loopback by default).
        name: re-running a cell replaces the server of the same name.
        long_poll_timeout: seconds a long poll is held before it returns empty.

    Attributes:
        http_url: ``http://host:port/``: ``/poll``, ``/wait``, ``/events``, ``/echo``.
        ws_url: ``ws://host:port/``: every event pushed as a text message.
        events: everything published so far.
        http_requests: HTTP requests served so far.
    """

    kind = "push"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        name: str | None = None,
        long_poll_timeout: float = 25.0,
    ) -> None:
        self.host = host
        self.long_poll_timeout = long_poll_timeout
        self.events: list[Event] = []
        self.http_requests = 0
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None
        self._closing = False
        self.ws: Server | None = None
        self._go_live(name, self._start)

    # -- lifecycle --

    def _start(self) -> None:  # the HTTP side on the loop, then the WebSocket server beside it
        _loop.get_loop()
        _loop.run(self._start_http())
        self.ws = Server(self._push, host=self.host, name=f"{self.name}/ws")

    async def _start_http(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/poll", self._poll)
        app.router.add_get("/wait", self._wait)
        app.router.add_get("/events", self._sse)
        app.router.add_post("/echo", self._echo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.http_port: int = self._runner.addresses[0][1]

    @property
    def http_url(self) -> str:
        """``http://host:port/``."""
        return format_url("http", self.host, self.http_port)

    @property
    def ws_url(self) -> str:
        return self.ws.url

    @property
    def running(self) -> bool:
        return self._runner is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both servers; open streams and held polls end."""
        runner, self._runner = self._runner, None
        if _loop._loop is None:  # stop_all() already took the loop down
            runner = None
        try:
            if runner is not None:
                async def release() -> None:  # wake every held poll, stream and push
                    self._closing = True
                    if self._changed is not None:
                        async with self._changed:
                            self._changed.notify_all()

                _loop.run(release(), timeout)
            if getattr(self, "ws", None) is not None:
                self.ws.stop()
            if runner is not None:
                _loop.run(runner.cleanup(), timeout)
        finally:
            _loop.unregister(self)

    def __repr__(self) -> str:
        if not self.running:
            return f"<PushServer {self.name!r} stopped>"
        return f"<PushServer {self.name!r} {self.http_url} + {self.ws_url}, {len(self.events)} events>"

    # -- events --

    def publish(self, data: str) -> Event:
        """Publish one event to every transport (from a cell)."""
        return self._run(self.apublish(data))

    async def apublish(self, data: str) -> Event:
        """Publish one event (from code on the wskit loop)."""
        assert self._changed is not None
        event = Event(len(self.events) + 1, time.perf_counter(), data)
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()
        return event

    async def _after(self, after: int, timeout: float | None) -> list[Event]:
        """Events numbered above ``after``, waiting up to ``timeout`` for one (0: don't wait)."""
        assert self._changed is not None
        if timeout:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: len(self.events) > after or self._closing), timeout
                    )
        return self.events[after:]

    # -- HTTP --

    @staticmethod
    def _after_param(request: web.Request) -> int:
        try:
            return max(0, int(request.query.get("after", "0")))
        except ValueError:
            raise web.HTTPBadRequest(text="'after' must be an event number, e.g. /poll?after=3\n") from None

    @staticmethod
    def _batch(events: list[Event]) -> str:
        return json.dumps({"events": [{"id": e.id, "data": e.data} for e in events]})

    async def _poll(self, request: web.Request) -> web.Response:
        self.http_requests += 1
        events = await self._after(self._after_param(request), 0)
        return web.Response(text=self._batch(events), content_type="application/json")

    async def _wait(self, request: web.Request) -> web.Response:
        self.http_requests += 1
        events = await self._after(self._after_param(request), self.long_poll_timeout)
        return web.Response(text=self._batch(events), content_type="application/json")

    async def _sse(self, request: web.Request) -> web.StreamResponse:
        self.http_requests += 1
        last = request.headers.get("Last-Event-ID", request.query.get("after", "0"))
        after = int(last) if last.isdigit() else 0
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            while not self._closing and request.transport is not None and not request.transport.is_closing():
                for event in await self._after(after, self.long_poll_timeout):
                    await response.write(event.to_sse())
                    after = event.id
        except ConnectionResetError:
            pass  # the client went away
        return response

    async def _echo(self, request: web.Request) -> web.Response:
        self.http_requests += 1
        return web.Response(body=await request.read(), content_type="text/plain")

    # -- WebSocket --

    async def _push(self, ws: Any) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        after = int(query.get("after", [len(self.events)])[0])
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            while not self._closing:
                waiting = asyncio.ensure_future(self._after(after, self.long_poll_timeout))
                await asyncio.wait([waiting, closed], return_when=asyncio.FIRST_COMPLETED)
                if closed.done():  # the client left: stop waiting for events
                    waiting.cancel()
                    return
                for event in waiting.result():
                    await ws.send(event.to_json())
                    after = event.id
        finally:
            closed.cancel()


class HTTPClient:
    """A minimal HTTP/1.1 client on one kept-alive connection, counting bytes.

    Runs on the wskit loop (``await`` it from code running there). ``h11``
    frames the requests and parses the responses; this class only moves
    bytes, and counts every one it writes in :attr:`bytes_sent` and every one
    it reads in :attr:`bytes_received`: heads, chunk sizes and bodies alike.
    """

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.bytes_sent = 0
        self.bytes_received = 0
        self.requests = 0
        self._http = h11.Connection(h11.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HTTPClient:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        _loop.read_small(self._writer.transport)
        self._http = h11.Connection(h11.CLIENT)  # a new connection: no request made on it yet
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        if self._writer is None:
            raise LiveError("use 'async with HTTPClient(url) as client'")
        if self._http.our_state is h11.DONE and self._http.their_state is h11.DONE:
            self._http.start_next_cycle()  # the last exchange is over: the connection is kept for the next one
        elif self._http.our_state is not h11.IDLE:
            raise ConnectionError(f"HTTP connection to {self.host}:{self.port} cannot carry another request "
                                  f"(client {self._http.our_state}, server {self._http.their_state})")
        fields = [("Host", f"{self.host}:{self.port}"), *(headers or {}).items()]
        if body or method == "POST":
            fields.append(("Content-Length", str(len(body))))
        data = self._http.send(h11.Request(method=method, target=path, headers=fields))
        data += self._http.send(h11.Data(data=body)) if body else b""
        data += self._http.send(h11.EndOfMessage())
        self.bytes_sent += len(data)
        self.requests += 1
        self._writer.write(data)
        await self._writer.drain()

    async def _next(self) -> h11.Event:
        """The next HTTP event of the response, reading (and counting) bytes until h11 has one."""
        assert self._reader is not None
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as exc:
                raise ConnectionError(f"bad HTTP from {self.host}:{self.port}: {exc}") from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self._reader.read(65536)
            self.bytes_received += len(data)
            self._http.receive_data(data)  # b"": the server closed the connection

    async def _head(self) -> Response:
        while True:
            event = await self._next()
            if isinstance(event, h11.Response):
                headers = Headers((name.decode("latin-1"), value.decode("latin-1"))
                                  for name, value in event.headers.raw_items())
                version = f"HTTP/{event.http_version.decode()}"
                return Response(event.status_code, event.reason.decode("latin-1"), headers, http_version=version)
            if isinstance(event, h11.ConnectionClosed):
                raise ConnectionError(f"{self.host}:{self.port} closed the connection before answering")
            # an h11.InformationalResponse (1xx) comes before the response itself

    async def request(self, method: str, path: str, body: bytes = b"") -> Response:
        """Send one request; return the response with its body."""
        await self._send(method, path, body)
        response = await self._head()
        chunks = []
        while isinstance(event := await self._next(), h11.Data):
            chunks.append(event.data)
        return dataclasses.replace(response, body=b"".join(chunks))

    async def events(self, path: str = "/events") -> AsyncIterator[tuple[int, str]]:
        """Open a Server-Sent Events stream; yield ``(id, data)`` as each event arrives.

        The stream is parsed by :class:`wskit.codec.sse.Parser` (the WHATWG
        rules); ``id`` is the event's last event ID as a number, as
        :class:`PushServer` numbers its events (``0`` if it is not one).
        """
        await self._send("GET", path, headers={"Accept": "text/event-stream"})
        response = await self._head()
        if response.status != 200:
            raise ConnectionError(f"SSE refused: {response.status} {response.reason}")
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "text/event-stream":
            raise ConnectionError(f"not an event stream: Content-Type {content_type!r}")
        parser = sse.Parser()
        while isinstance(event := await self._next(), h11.Data):
            try:
                messages, too_large = parser.feed(event.data), None
            except sse.EventTooLarge as exc:  # the events before it still count; then the stream ends in error
                messages, too_large = exc.events, exc
            for message in messages:
                yield int(message.id) if message.id.isdigit() else 0, message.data
            if too_large is not None:
                raise too_large
