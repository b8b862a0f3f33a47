"""Authentication that does not leak: short-lived, single-use tickets for the WebSocket handshake.

A browser cannot set headers on ``new WebSocket(url)``, so a credential often ends up in the URL's query
string, where every proxy's access log (and the browser's history) keeps it. The common answer: the page
first makes an ordinary HTTPS request with its real credential (a header or a cookie, which logs do not
show) and gets back a **ticket**: random, valid for a few seconds, good for one handshake. The ticket then
travels in the WebSocket URL; once used or expired it is worthless, so a log line holding it leaks nothing.

>>> from wskit.live.tickets import TicketServer, fetch_ticket
>>> srv = TicketServer(users={"s3cret-api-token": "alice"})         # doctest: +SKIP
>>> ticket = fetch_ticket(srv.http_url, "s3cret-api-token")          # doctest: +SKIP
>>> c = wskit.connect(f"{srv.url}?ticket={ticket}")                  # doctest: +SKIP
>>> c.recv()                                                         # doctest: +SKIP
'hello alice'
"""

from __future__ import annotations

import hmac
import http
import json
import math
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse

from .errors import LiveError
from .server import Handler, Server

__all__ = ["MAX_LIVE_TICKETS", "TicketRefused", "TicketServer", "TooManyTickets", "fetch_ticket"]

MAX_LIVE_TICKETS = 10_000
"""How many tickets a :class:`TicketServer` keeps at once (issued, not yet used, not yet expired).

Past it ``GET /ticket`` answers ``503 Service Unavailable`` with ``Retry-After`` (and ``issue()`` raises
:class:`TooManyTickets`) until a ticket is used or expires: no ticket already handed out is ever dropped,
and a client that asks for tickets without using them cannot fill the server's memory.
"""


class TicketRefused(LiveError, PermissionError):
    """The ticket endpoint refused to give a ticket (401: no API token, 403: not valid, 503: too many live tickets).

    Attributes:
        status: the HTTP status.
    """

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        super().__init__(f"the ticket endpoint answered {status}: {detail}")


class TooManyTickets(LiveError, RuntimeError):
    """:meth:`TicketServer.issue` refused: ``max_tickets`` tickets are live (the endpoint answers 503).

    Attributes:
        retry_after: whole seconds until the oldest live ticket expires (at least 1).
    """

    def __init__(self, limit: int, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"{limit} tickets are live, the most this server keeps (max_tickets); "
                         f"try again in {retry_after} s, when the oldest expires")


async def _greet_and_echo(ws: ServerConnection) -> None:
    await ws.send(f"hello {getattr(ws, 'wskit_user', '?')}")
    async for message in ws:
        await ws.send(message)


class TicketServer(Server):
    """A WebSocket server that admits only clients holding a fresh, single-use ticket.

    * ``GET /ticket`` with ``Authorization: Bearer <api token>`` (an ordinary HTTP request, which a page
      can make with ``fetch``) answers ``{"ticket": "...", "expires_in": ttl}``; no token → 401, a wrong one
      → 403.
    * The WebSocket handshake to ``/?ticket=...`` is accepted once per ticket, within ``ttl`` seconds:
      no ticket → 401; unknown, already used or expired → 403.
    * At most ``max_tickets`` tickets are live at once; past that ``GET /ticket`` answers 503 with
      ``Retry-After`` until one is used or expires (see :data:`MAX_LIVE_TICKETS`).

    The handler can read the user as ``ws.wskit_user``; the default one says ``hello <user>`` and then
    echoes. Takes the keyword arguments of :class:`wskit.Server`.

    Args:
        handler: ``async def handler(ws)``, as for :class:`wskit.Server`.
        users: long-lived API token → user name.
        ttl: seconds a ticket stays valid.
        max_tickets: the most live tickets kept (default :data:`MAX_LIVE_TICKETS`, 10,000).

    Attributes:
        http_url: ``http://host:port`` for the ticket endpoint.
        used: tickets consumed so far; ``refused``: handshakes refused for a bad ticket.
    """

    kind = "ticket-server"

    def __init__(self, handler: Handler | None = None, *, users: dict[str, str], ttl: float = 10.0,
                 max_tickets: int = MAX_LIVE_TICKETS, **options: Any) -> None:
        if not users:
            raise ValueError("users maps API tokens to user names, e.g. {'s3cret-api-token': 'alice'}")
        if max_tickets < 1:
            raise ValueError(f"max_tickets must be at least 1, got {max_tickets}")
        self.users = dict(users)
        self._ttl = ttl
        self.max_tickets = max_tickets
        # ticket -> (user, expiry on time.monotonic()), in the order issued: with one ttl for all, that is
        # the order they expire in, so the expired ones are always at the front (an OrderedDict: a plain dict's
        # first item gets slow to reach after many deletions at the front)
        self._tickets: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._tickets_lock = threading.Lock()
        self.used = 0
        self.refused = 0
        super().__init__(handler or _greet_and_echo, **options)

    @property
    def http_url(self) -> str:
        """``http://host:port`` (``https://`` with TLS): where ``GET /ticket`` is served."""
        return self.url.replace("ws", "http", 1).rstrip("/")

    @property
    def ttl(self) -> float:
        """Seconds a ticket stays valid (fixed when the server is made: tickets expire in the order they were
        issued, which is how the expired ones are forgotten cheaply)."""
        return self._ttl

    def issue(self, user: str) -> str:
        """A new ticket for ``user`` (what ``GET /ticket`` does after checking the API token).

        Forgets the expired tickets first: O(1) a ticket, amortized, as they leave from the front.

        Raises:
            TooManyTickets: ``max_tickets`` tickets are live (none is dropped to make room).
        """
        now = time.monotonic()
        ticket = secrets.token_urlsafe(18)
        with self._tickets_lock:
            while self._tickets and next(iter(self._tickets.values()))[1] < now:
                self._tickets.popitem(last=False)  # expired tickets are forgotten, oldest first
            if len(self._tickets) >= self.max_tickets:
                oldest_expiry = next(iter(self._tickets.values()))[1]
                raise TooManyTickets(self.max_tickets, max(1, math.ceil(oldest_expiry - now)))
            self._tickets[ticket] = (user, now + self._ttl)
        return ticket

    def _consume(self, ticket: str) -> tuple[str | None, str]:
        with self._tickets_lock:
            entry = self._tickets.pop(ticket, None)  # pop: a ticket works once
        if entry is None:
            return None, "unknown or already used"
        user, expiry = entry
        if time.monotonic() > expiry:
            return None, "expired"
        return user, ""

    def _process_request(self, connection: ServerConnection, request: WSRequest) -> WSResponse | None:
        target = urllib.parse.urlsplit(request.path)
        if target.path == "/ticket":
            return self._ticket_endpoint(connection, request)
        ticket = urllib.parse.parse_qs(target.query).get("ticket", [None])[0]
        if ticket is None:
            self.refused += 1
            response = connection.respond(
                http.HTTPStatus.UNAUTHORIZED, "Failed to open a WebSocket connection: a ticket is needed "
                "(GET /ticket with your API token, then connect to ?ticket=<ticket>).\n",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="wskit"'
            return response
        user, problem = self._consume(ticket)
        if user is None:
            self.refused += 1
            return connection.respond(
                http.HTTPStatus.FORBIDDEN, f"Failed to open a WebSocket connection: the ticket is {problem}.\n"
            )
        self.used += 1
        connection.wskit_user = user  # type: ignore[attr-defined]
        return super()._process_request(connection, request)

    def _ticket_endpoint(self, connection: ServerConnection, request: WSRequest) -> WSResponse:
        authorization = request.headers.get("Authorization", "")
        if not authorization.lower().startswith("bearer "):
            response = connection.respond(http.HTTPStatus.UNAUTHORIZED, "Authorization: Bearer <token> needed\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="wskit"'
            return response
        offered = authorization[7:].strip().encode()
        user = next((u for token, u in self.users.items() if hmac.compare_digest(offered, token.encode())), None)
        if user is None:
            return connection.respond(http.HTTPStatus.FORBIDDEN, "the API token is not valid\n")
        try:
            ticket = self.issue(user)
        except TooManyTickets as full:
            response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, f"{full}\n")
            response.headers["Retry-After"] = str(full.retry_after)
            return response
        body = json.dumps({"ticket": ticket, "expires_in": self.ttl})
        response = connection.respond(http.HTTPStatus.OK, body)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        response.headers["Cache-Control"] = "no-store"  # a ticket must not sit in a cache
        return response


def fetch_ticket(http_url: str, api_token: str, *, ssl: Any = None, timeout: float = 5.0) -> str:
    """``GET {http_url}/ticket`` with ``Authorization: Bearer api_token``; return the ticket.

    Args:
        http_url: the server's (or the proxy's) ``http://`` or ``https://`` address.
        api_token: the long-lived credential; it travels in a header, which access logs do not record.
        ssl: an ``ssl.SSLContext`` for ``https://``.

    Raises:
        TicketRefused: 401 or 403 (a missing or wrong API token), 503 (too many live tickets).
    """
    request = urllib.request.Request(f"{http_url.rstrip('/')}/ticket",
                                     headers={"Authorization": f"Bearer {api_token}"})
    handlers: list[Any] = [urllib.request.ProxyHandler({})]  # loopback: never through an HTTP proxy
    if ssl is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl))
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as response:
            return json.loads(response.read())["ticket"]
    except urllib.error.HTTPError as error:
        with error:  # close its connection now, not when the exception is collected
            detail = error.read().decode("utf-8", "replace").strip()
        raise TicketRefused(error.code, detail) from None
