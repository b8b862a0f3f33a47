"""Glue between ``websockets`` connections and a :class:`TrafficLog`.

``websockets`` does the protocol work; these connection classes only watch
it. Every frame the sans-I/O protocol parses passes through
``protocol.recv_frame``, and every frame it sends passes through
``protocol.send_frame``: both are logged (fragments reassembled into one
message record, control frames as they are).
"""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request as WSRequest
from websockets.http11 import Response as WSResponse

from ..codec.handshake import Headers, Request, Response
from .log import TrafficLog

__all__ = ["LoggedClientConnection", "LoggedServerConnection", "to_request", "to_response"]


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
        self._wskit_partial: dict[str, tuple[Opcode, list[bytes]]] = {}
        send_frame = self.protocol.send_frame

        def logged_send_frame(frame: Frame) -> None:
            send_frame(frame)
            self.wskit_frame(frame, "sent")

        recv_frame = self.protocol.recv_frame

        def logged_recv_frame(frame: Frame) -> None:
            # Logged before the protocol reacts, so a ping comes before its pong.
            self.wskit_frame(frame, "received")
            recv_frame(frame)

        self.protocol.send_frame = logged_send_frame
        self.protocol.recv_frame = logged_recv_frame

    def wskit_frame(self, frame: Frame, direction: str) -> None:
        log, conn = self.wskit_log, self.wskit_conn
        data = bytes(frame.data)
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            if frame.opcode is Opcode.CONT:
                if direction not in self._wskit_partial:  # the peer broke the rules: show it as is
                    log.add(direction, "CONT", size=len(data), conn=conn, data=data,
                            info="continuation with no message to continue")
                    return
                opcode, parts = self._wskit_partial.pop(direction)
            else:
                opcode, parts = frame.opcode, []
            parts.append(data)
            if not frame.fin:
                self._wskit_partial[direction] = (opcode, parts)
                return
            payload = b"".join(parts)
            info = f"{len(parts)} frames" if len(parts) > 1 else ""
            if opcode is Opcode.TEXT:
                log.add(direction, "TEXT", size=len(payload), conn=conn, info=info,
                        data=payload.decode("utf-8", errors="replace"))
            else:
                log.add(direction, "BINARY", size=len(payload), conn=conn, info=info, data=payload)
        elif frame.opcode is Opcode.CLOSE:
            try:
                close = Close.parse(data)
                code, reason = close.code, close.reason
            except Exception:  # an invalid close frame is still logged
                code, reason = None, "invalid close payload"
            log.add(direction, "CLOSE", size=len(data), conn=conn, data=data, code=code, info=reason)
        else:
            log.add(direction, frame.opcode.name, size=len(data), conn=conn, data=data)

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
    """A server-side connection that logs its traffic."""


class LoggedClientConnection(_Logged, ClientConnection):
    """A client-side connection that logs its traffic."""

    def wskit_attach(self, log: TrafficLog, conn: int) -> None:
        super().wskit_attach(log, conn)
        process_response = self.protocol.process_response

        def logged_process_response(response: WSResponse) -> None:
            # Runs as the 101 is parsed, before any frame that came with it.
            process_response(response)  # raises if the handshake is refused
            self.wskit_opened = True
            log.add("event", "OPEN", conn=conn, info=self.protocol.uri.resource_name)

        self.protocol.process_response = logged_process_response
