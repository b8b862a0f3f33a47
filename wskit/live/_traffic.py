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

import time
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse

from ..codec.handshake import Headers, Request, Response
from .log import MAX_TARGET, RECORD_OVERHEAD, TrafficLog, redact

__all__ = [
    "PRIVATE_HOOKS",
    "LoggedClientConnection",
    "LoggedServerConnection",
    "check_private_hooks",
    "to_request",
    "to_response",
]

#: What this module reaches inside ``websockets`` that is not its documented API: (where, attribute, the
#: parameters it must take). ``pyproject.toml`` pins ``websockets`` below the next untested major, and
#: ``tests/live/test_private_hooks.py`` runs :func:`check_private_hooks`, which names any that moved.
PRIVATE_HOOKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("websockets.protocol.Protocol", "send_frame", ("self", "frame")),
    ("websockets.protocol.Protocol", "recv_frame", ("self", "frame")),
    ("websockets.protocol.Protocol", "data_to_send", ("self",)),
    ("websockets.protocol.Protocol", "receive_data", ("self", "data")),
    ("websockets.server.ServerProtocol", "send_response", ("self", "response")),
    ("websockets.client.ClientProtocol", "process_response", ("self", "response")),
    ("websockets.asyncio.connection.Connection", "connection_lost", ("self", "exc")),
)
#: Instance attributes read on a live protocol.
PRIVATE_ATTRIBUTES = ("handshake_exc", "send_frame", "recv_frame", "data_to_send", "receive_data")


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


def _target(path: str) -> str:
    """A request target as the log keeps it: secrets redacted, at most ``MAX_TARGET`` characters."""
    path = redact(path)
    return path if len(path) <= MAX_TARGET else path[: MAX_TARGET - 1] + "…"


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


class _Logged:
    """Mixin: log every frame of a ``websockets`` asyncio connection."""

    protocol: Any
    wskit_log: TrafficLog
    wskit_conn: int

    def wskit_attach(self, log: TrafficLog, conn: int) -> None:
        self.wskit_log = log
        self.wskit_conn = conn
        self.wskit_opened = False
        # direction → (first opcode, the start of the payload kept, size so far, frames so far)
        self._wskit_partial: dict[str, tuple[Opcode, bytes, int, int]] = {}
        send_frame, recv_frame = self.protocol.send_frame, self.protocol.recv_frame
        # The fast path, taken by almost every frame: a whole message in one frame. It appends a raw
        # tuple that the log turns into a Record only when read (TrafficLog._materialize), and it is
        # written out twice, sent and received, so that each frame costs one Python call: the benchmark
        # holds wskit's echo within 10% of a bare websockets server.
        records, clock = log._records, time.perf_counter
        keep, maxlen, append, overhead = log.max_data, log._records.maxlen, log._records.append, RECORD_OVERHEAD
        text, binary = Opcode.TEXT, Opcode.BINARY

        def logged_send_frame(frame: Frame) -> None:
            send_frame(frame)
            opcode = frame.opcode
            if frame.fin and (opcode is binary or opcode is text):
                data = frame.data
                head = data[:keep] if data.__class__ is bytes else bytes(data[:keep])
                entry = (clock(), "sent", "TEXT" if opcode is text else "BINARY", len(data), head, conn)
                cost = overhead + len(head)
                if len(records) >= maxlen or log._held + cost > log.max_bytes:
                    log._make_room(cost)
                append(entry)
                log._held += cost
                if log._watchers:
                    log._wake(entry)
            else:
                self.wskit_frame(frame, "sent")

        def logged_recv_frame(frame: Frame) -> None:
            # Logged before the protocol reacts, so a ping comes before its pong.
            opcode = frame.opcode
            if frame.fin and (opcode is binary or opcode is text) and "received" not in self._wskit_partial:
                data = frame.data
                head = data[:keep] if data.__class__ is bytes else bytes(data[:keep])
                entry = (clock(), "received", "TEXT" if opcode is text else "BINARY", len(data), head, conn)
                cost = overhead + len(head)
                if len(records) >= maxlen or log._held + cost > log.max_bytes:
                    log._make_room(cost)
                append(entry)
                log._held += cost
                if log._watchers:
                    log._wake(entry)
            else:
                self.wskit_frame(frame, "received")
            recv_frame(frame)

        self.protocol.send_frame = logged_send_frame
        self.protocol.recv_frame = logged_recv_frame

        data_to_send = self.protocol.data_to_send

        def counted_data_to_send() -> list[bytes]:
            chunks = data_to_send()
            for chunk in chunks:
                log.bytes_sent += len(chunk)
            return chunks

        self.protocol.data_to_send = counted_data_to_send

        receive_data = self.protocol.receive_data

        def counted_receive_data(data: bytes) -> None:
            log.bytes_received += len(data)
            receive_data(data)

        self.protocol.receive_data = counted_receive_data

    def wskit_frame(self, frame: Frame, direction: str) -> None:
        log, conn, opcode = self.wskit_log, self.wskit_conn, frame.opcode
        size = len(frame.data)
        keep = log.max_data
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY or opcode is Opcode.CONT:
            partial = self._wskit_partial
            if frame.fin and opcode is not Opcode.CONT:  # the common case: a whole message in one frame
                head = bytes(frame.data[:keep])  # copy only what the log keeps
                if opcode is Opcode.TEXT:
                    log.add(direction, "TEXT", size=size, conn=conn, data=head.decode("utf-8", errors="replace"))
                else:
                    log.add(direction, "BINARY", size=size, conn=conn, data=head)
                return
            if opcode is Opcode.CONT:
                if direction not in partial:  # the peer broke the rules: show it as is
                    log.add(direction, "CONT", size=size, conn=conn, data=bytes(frame.data[:keep]),
                            info="continuation with no message to continue")
                    return
                first, head, total, frames = partial.pop(direction)
            else:
                first, head, total, frames = opcode, b"", 0, 0
            if len(head) < keep:
                head += bytes(frame.data[: keep - len(head)])
            total, frames = total + size, frames + 1
            if not frame.fin:
                partial[direction] = (first, head, total, frames)
                return
            info = f"{frames} frames" if frames > 1 else ""
            if first is Opcode.TEXT:
                log.add(direction, "TEXT", size=total, conn=conn, info=info,
                        data=head.decode("utf-8", errors="replace"))
            else:
                log.add(direction, "BINARY", size=total, conn=conn, info=info, data=head)
        elif opcode is Opcode.CLOSE:
            data = bytes(frame.data)
            try:
                close = Close.parse(data)
                code, reason = close.code, close.reason
            except Exception:  # an invalid close frame is still logged
                code, reason = None, "invalid close payload"
            log.add(direction, "CLOSE", size=size, conn=conn, data=data, code=code, info=reason)
        else:
            log.add(direction, opcode.name, size=size, conn=conn, data=bytes(frame.data))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)  # type: ignore[misc]
        if self.wskit_opened:
            self.wskit_log.add(
                "event",
                "CLOSED",
                conn=self.wskit_conn,
                code=self.close_code,  # type: ignore[attr-defined]
                info=self.close_reason or "",  # type: ignore[attr-defined]
            )


class LoggedServerConnection(_Logged, ServerConnection):
    """A server-side connection that logs its traffic, and every refusal with its status.

    Refusals are logged where the response goes out, so that those websockets
    makes before any handler could see the request (a header line too long:
    431) are logged too; a connection dropped with no answer at all (bytes that
    are not HTTP, a handshake slower than the open timeout) is logged when it closes.
    """

    def wskit_attach(self, log: TrafficLog, conn: int) -> None:
        super().wskit_attach(log, conn)
        self.wskit_answered = False
        send_response = self.protocol.send_response

        def logged_send_response(response: WSResponse) -> None:
            send_response(response)
            self.wskit_answered = True
            if response.status_code == 101:
                self.wskit_opened = True
                log.add("event", "OPEN", conn=conn, info=_target(self.request.path) if self.request else "")
            else:
                body = bytes(response.body or b"").decode("utf-8", "replace").strip()
                log.add("event", "REJECTED", conn=conn, code=response.status_code, info=body)

        self.protocol.send_response = logged_send_response

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.wskit_answered:
            why = self.protocol.handshake_exc
            self.wskit_log.add(
                "event", "REJECTED", conn=self.wskit_conn,
                info=f"closed with no HTTP answer: {why}" if why else "closed before the handshake was complete",
            )


class LoggedClientConnection(_Logged, ClientConnection):
    """A client-side connection that logs its traffic."""

    def wskit_attach(self, log: TrafficLog, conn: int) -> None:
        super().wskit_attach(log, conn)
        process_response = self.protocol.process_response

        def logged_process_response(response: WSResponse) -> None:
            # Runs as the 101 is parsed, before any frame that came with it.
            process_response(response)  # raises if the handshake is refused
            self.wskit_opened = True
            log.add("event", "OPEN", conn=conn, info=_target(self.protocol.uri.resource_name))

        self.protocol.process_response = logged_process_response
