"""Glue between ``websockets`` connections and a :class:`TrafficLog`.

``websockets`` does the protocol work; these connection classes only watch
it. Every frame the sans-I/O protocol parses passes through
``protocol.recv_frame``, and every frame it sends passes through
``protocol.send_frame``: both are logged (fragments reassembled into one
message record, control frames as they are). The bytes on the wire,
handshake and frame headers included, are counted in the log's
``bytes_sent`` and ``bytes_received``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.client import ClientProtocol
from websockets.datastructures import Headers as WSHeaders
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse
from websockets.server import ServerProtocol

from ..codec.handshake import Headers, Request, Response
from ..codec.kinds import RecordKind
from .log import MAX_TARGET, RECORD_OVERHEAD, TrafficLog, redact_bounded
from .loop import read_small

__all__ = [
    "PRIVATE_HOOKS",
    "LoggedClientConnection",
    "LoggedServerConnection",
    "check_private_hooks",
    "to_request",
    "to_response",
]

#: What this module overrides inside ``websockets`` that is not its documented API: (where, attribute, the
#: parameters it must take). ``pyproject.toml`` pins ``websockets`` below the next untested major, and
#: ``tests/live/test_private_hooks.py`` runs :func:`check_private_hooks`, which names any that moved.
PRIVATE_HOOKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("websockets.protocol.Protocol", "send_frame", ("self", "frame")),
    ("websockets.protocol.Protocol", "recv_frame", ("self", "frame")),
    ("websockets.protocol.Protocol", "data_to_send", ("self",)),
    ("websockets.protocol.Protocol", "receive_data", ("self", "data")),
    ("websockets.server.ServerProtocol", "send_response", ("self", "response")),
    ("websockets.client.ClientProtocol", "process_response", ("self", "response")),
    ("websockets.asyncio.connection.Connection", "connection_made", ("self", "transport")),
    ("websockets.asyncio.connection.Connection", "connection_lost", ("self", "exc")),
    # wskit.load's connection hands each data frame to its user in the callback that parsed it
    ("websockets.asyncio.connection.Connection", "process_event", ("self", "event")),
    ("websockets.asyncio.connection.Connection", "data_received", ("self", "data")),
    ("websockets.asyncio.connection.Connection", "send_data", ("self",)),
)
#: Instance attributes read on a live protocol (and ``uri.resource_name`` on a client's).
PRIVATE_ATTRIBUTES = ("handshake_exc",)
#: Read by the plain-cell client's pump and writer (wskit/live/client.py): on a connection (set in its
#: ``__init__``), and on its message assembler's frame queue.
PRIVATE_CONNECTION_ATTRIBUTES = ("paused", "send_in_progress")
PRIVATE_FRAME_QUEUE_ATTRIBUTES = ("queue", "put_back")


def check_private_hooks() -> None:
    """Check that every private hook of ``websockets`` this module patches is where it was.

    Raises:
        RuntimeError: naming the attribute that moved (or changed its parameters) and the installed version.
    """
    import importlib
    import inspect

    import websockets
    from websockets.client import ClientProtocol
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri

    def moved(what: str) -> RuntimeError:
        return RuntimeError(
            f"websockets {websockets.version.version} moved {what}, which wskit's traffic log patches "
            "(wskit/live/_traffic.py); install the version pinned in pyproject.toml"
        )

    for where, attribute, parameters in PRIVATE_HOOKS:
        module, _, name = where.rpartition(".")
        owner = getattr(importlib.import_module(module), name, None)
        function = getattr(owner, attribute, None)
        if not callable(function):
            raise moved(f"{where}.{attribute}")
        if tuple(inspect.signature(function).parameters) != parameters:
            raise moved(f"{where}.{attribute}{inspect.signature(function)} (expected {', '.join(parameters)})")
    for protocol in (ServerProtocol(), ClientProtocol(parse_uri("ws://127.0.0.1/"))):
        for attribute in PRIVATE_ATTRIBUTES:
            if not hasattr(protocol, attribute):
                raise moved(f"{type(protocol).__name__}().{attribute}")
    if not hasattr(ClientProtocol(parse_uri("ws://127.0.0.1/")).uri, "resource_name"):
        raise moved("ClientProtocol().uri.resource_name")
    from websockets.asyncio.connection import Connection
    from websockets.asyncio.messages import Assembler

    source = inspect.getsource(Connection.__init__)
    for attribute in PRIVATE_CONNECTION_ATTRIBUTES:
        if f"self.{attribute}" not in source:
            raise moved(f"Connection().{attribute}")
    if "self.recv_messages = Assembler(" not in inspect.getsource(Connection.connection_made):
        raise moved("Connection().recv_messages (the Assembler the plain-cell client's pump reads)")

    async def assembler() -> Any:
        return Assembler()

    made = asyncio.run(assembler())
    if not isinstance(getattr(made, "get_in_progress", None), bool):
        raise moved("asyncio.messages.Assembler().get_in_progress")
    frames = getattr(made, "frames", None)
    for attribute in PRIVATE_FRAME_QUEUE_ATTRIBUTES:
        if not hasattr(frames, attribute):
            raise moved(f"asyncio.messages.Assembler().frames.{attribute}")
    headers = WSHeaders(Upgrade="websocket")
    if getattr(headers, "_dict", None) != {"upgrade": ["websocket"]} or getattr(headers, "_list", None) != [
        ("Upgrade", "websocket")
    ]:
        raise moved("Headers._dict / Headers._list (which compact_headers rebuilds)")


def _target(path: str) -> str:
    """A request target as the log keeps it: secrets redacted, at most ``MAX_TARGET`` characters."""
    return redact_bounded(path, MAX_TARGET)


def to_request(request: WSRequest) -> Request:
    """A ``websockets`` request as a :mod:`wskit.codec.handshake` one."""
    return Request("GET", request.path, Headers(request.headers.raw_items()))


def to_response(response: WSResponse) -> Response:
    """A ``websockets`` response as a :mod:`wskit.codec.handshake` one."""
    return Response(
        response.status_code,
        response.reason_phrase,
        Headers(response.headers.raw_items()),
        bytes(response.body or b""),
    )


_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT


class _Tap:
    """What a logged protocol knows: its log, its connection number, its connection, and what it has seen.

    One attribute on the protocol (``protocol.wskit``): a third new attribute on a ``websockets`` protocol
    turns its instance dict from a shared-key table into a 1.5 KB one of its own, for every connection.
    """

    __slots__ = ("answered", "conn", "connection", "log", "opened", "partial")

    def __init__(self, log: TrafficLog, conn: int, connection: Any) -> None:
        self.log = log
        self.conn = conn
        self.connection = connection  # the asyncio connection that owns the protocol
        self.opened = False  # the handshake succeeded (then the end of the connection is logged)
        self.answered = False  # a server sent its HTTP response
        # direction → (first opcode, the start of the payload kept, size so far, frames so far), while a
        # message is in fragments; made for the first fragmented message only
        self.partial: dict[str, tuple[Opcode, bytes, int, int]] | None = None


class _LoggedProtocol:
    """Mixin for a ``websockets`` sans-I/O protocol: log every frame it parses or sends, count every byte.

    :meth:`_Logged.wskit_attach` makes a connection's protocol an instance of a subclass with this mixin
    (``protocol.__class__ = ...``: the same object, the same layout) and gives it one attribute, ``wskit``
    (a :class:`_Tap`), so that a connection costs about 150 bytes here, not a closure per hook. Every frame
    the protocol parses passes through ``recv_frame``, every frame it sends through ``send_frame``, the bytes
    through ``data_to_send`` and ``receive_data``.
    """

    wskit: _Tap

    def send_frame(self, frame: Frame) -> None:
        super().send_frame(frame)  # type: ignore[misc]
        self.wskit_log_frame(frame, "sent")

    def recv_frame(self, frame: Frame) -> None:
        self.wskit_log_frame(frame, "received")  # before the protocol reacts, so a ping comes before its pong
        super().recv_frame(frame)  # type: ignore[misc]

    def data_to_send(self) -> list[bytes]:
        chunks = super().data_to_send()  # type: ignore[misc]
        log = self.wskit.log
        for chunk in chunks:
            log.bytes_sent += len(chunk)
        return chunks

    def receive_data(self, data: bytes | bytearray) -> None:
        self.wskit.log.bytes_received += len(data)
        super().receive_data(data)  # type: ignore[misc]

    def wskit_log_frame(self, frame: Frame, direction: str) -> None:
        """Log one frame: a message in one frame as a raw entry (made a Record when read), the others by hand."""
        tap, opcode = self.wskit, frame.opcode
        whole = frame.fin and (opcode is _TEXT or opcode is _BINARY)
        if whole and (tap.partial is None or direction not in tap.partial):
            log, data = tap.log, frame.data
            head = data[: log.max_data]
            if head.__class__ is not bytes:
                head = bytes(head)  # a bytearray or memoryview would keep (and follow) the whole buffer
            kind = RecordKind.TEXT if opcode is _TEXT else RecordKind.BINARY
            log._append((time.perf_counter(), direction, kind, len(data), head, tap.conn), RECORD_OVERHEAD + len(head))
        else:
            self.wskit_frame(frame, direction)

    def wskit_frame(self, frame: Frame, direction: str) -> None:
        """Log a fragment, a control frame, or a message that breaks the rules, through :meth:`TrafficLog.add`."""
        tap, opcode = self.wskit, frame.opcode
        log, conn = tap.log, tap.conn
        size = len(frame.data)
        keep = log.max_data
        if opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
            if tap.partial is None:
                tap.partial = {}
            partial = tap.partial
            if opcode is _CONT:
                if direction not in partial:  # the peer broke the rules: show it as is
                    log.add(direction, RecordKind.CONT, size=size, conn=conn, data=bytes(frame.data[:keep]),
                            info="continuation with no message to continue")
                    return
                first, head, total, frames = partial.pop(direction)
            else:  # the first fragment, or (the peer broke the rules) a new message while one is in fragments
                first, head, total, frames = opcode, b"", 0, 0
            if len(head) < keep:
                head += bytes(frame.data[: keep - len(head)])  # copy only what the log keeps
            total, frames = total + size, frames + 1
            if not frame.fin:
                partial[direction] = (first, head, total, frames)
                return
            info = f"{frames} frames" if frames > 1 else ""
            if first is _TEXT:
                log.add(direction, RecordKind.TEXT, size=total, conn=conn, info=info,
                        data=head.decode("utf-8", errors="replace"))
            else:
                log.add(direction, RecordKind.BINARY, size=total, conn=conn, info=info, data=head)
        elif opcode is Opcode.CLOSE:
            data = bytes(frame.data)
            try:
                close = Close.parse(data)
                code, reason = close.code, close.reason
            except Exception:  # an invalid close frame is still logged
                code, reason = None, "invalid close payload"
            log.add(direction, RecordKind.CLOSE, size=size, conn=conn, data=data, code=code, info=reason)
        else:
            log.add(direction, RecordKind(opcode.name), size=size, conn=conn, data=bytes(frame.data))


class _LoggedServerProtocol(_LoggedProtocol, ServerProtocol):
    """A server's protocol that also logs its answer to the handshake: ``OPEN``, or ``REJECTED`` with the status.

    Refusals are logged where the response goes out, so that those websockets makes before any handler could see
    the request (a header line too long: 431) are logged too.
    """

    def send_response(self, response: WSResponse) -> None:
        super().send_response(response)
        tap = self.wskit
        tap.answered = True
        if response.status_code == 101:
            tap.opened = True
            request = tap.connection.request
            tap.log.add("event", RecordKind.OPEN, conn=tap.conn, info=_target(request.path) if request else "")
        else:
            body = bytes(response.body or b"").decode("utf-8", "replace").strip()
            tap.log.add("event", RecordKind.REJECTED, conn=tap.conn, code=response.status_code, info=body)


class _LoggedClientProtocol(_LoggedProtocol, ClientProtocol):
    """A client's protocol that also logs the server's 101 as ``OPEN``."""

    def process_response(self, response: WSResponse) -> None:
        # Runs as the 101 is parsed, before any frame that came with it.
        super().process_response(response)  # raises if the handshake is refused
        tap = self.wskit
        tap.opened = True
        tap.log.add("event", RecordKind.OPEN, conn=tap.conn, info=_target(self.uri.resource_name))


_LOGGED_PROTOCOLS: dict[type, type] = {ServerProtocol: _LoggedServerProtocol, ClientProtocol: _LoggedClientProtocol}


class _Logged:
    """Mixin: log every frame of a ``websockets`` asyncio connection (through its protocol: _LoggedProtocol)."""

    protocol: Any

    def wskit_attach(self, log: TrafficLog, conn: int) -> None:
        """Log this connection's traffic in ``log``, as connection number ``conn``."""
        protocol = self.protocol
        protocol.__class__ = _LOGGED_PROTOCOLS[type(protocol)]
        protocol.wskit = _Tap(log, conn, self)

    @property
    def wskit_log(self) -> TrafficLog:
        """The log of this connection's traffic."""
        return self.protocol.wskit.log

    @property
    def wskit_conn(self) -> int:
        """The connection number in the log (0 on a client)."""
        return self.protocol.wskit.conn

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        read_small(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)  # type: ignore[misc]
        tap = self.protocol.wskit
        if tap.opened:
            tap.log.add(
                "event",
                RecordKind.CLOSED,
                conn=tap.conn,
                code=self.close_code,  # type: ignore[attr-defined]
                info=self.close_reason or "",  # type: ignore[attr-defined]
            )


class LoggedServerConnection(_Logged, ServerConnection):
    """A server-side connection that logs its traffic, and every refusal with its status.

    A connection dropped with no answer at all (bytes that are not HTTP, a handshake slower than the open timeout)
    is logged when it closes.
    """

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        tap = self.protocol.wskit
        if not tap.answered:
            why = self.protocol.handshake_exc
            tap.log.add(
                "event", RecordKind.REJECTED, conn=tap.conn,
                info=f"closed with no HTTP answer: {why}" if why else "closed before the handshake was complete",
            )


class LoggedClientConnection(_Logged, ClientConnection):
    """A client-side connection that logs its traffic.

    ``wskit_sink``, when set, is called after websockets has taken in each chunk of data (and once the
    connection is lost), in the same callback: the plain-cell client's pump (``_Core._pump``) hands whole
    messages to the cell from there.
    """

    wskit_sink: Callable[[], None] | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        sink = self.wskit_sink
        if sink is not None:
            sink()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        sink = self.wskit_sink
        if sink is not None:
            sink()
