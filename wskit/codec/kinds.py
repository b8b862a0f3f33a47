"""What a row of a traffic log is: one vocabulary for the log and the panels that show it.

A record of a wskit traffic log (:class:`wskit.live.log.Record`) is a WebSocket
frame or message, an Engine.IO packet (the traffic of Socket.IO), or an event
of the connection; its ``opcode`` is a :class:`RecordKind`. The live layer
writes these kinds and the widgets read them, so both import them from here.

A :class:`RecordKind` is a string enum: it equals its name, prints as its
name, and goes into JSON as its name, so ``r.opcode == "PONG"`` works too.

>>> RecordKind.PONG == "PONG", f"{RecordKind.PONG}", RecordKind("PING").is_control
(True, 'PONG', True)
>>> RecordKind.MESSAGE.is_data, RecordKind.CLOSED.is_event, RecordKind.CLOSE.frame_opcode
(True, True, <Opcode.CLOSE: 8>)
"""

from __future__ import annotations

import enum

from .frames import Opcode

__all__ = ["CONTROL_KINDS", "DATA_KINDS", "EVENT_KINDS", "RecordKind"]


class RecordKind(enum.StrEnum):
    """The kind of one traffic-log record (its ``opcode``).

    WebSocket frames: ``TEXT`` and ``BINARY`` (a whole message, however many
    frames it came in), ``PING``, ``PONG``, ``CLOSE``, and ``CONT`` (a
    continuation with no message to continue: the peer broke the rules).
    Engine.IO packets: ``OPEN``, ``CLOSE``, ``PING``, ``PONG``, ``MESSAGE``
    (it carries a Socket.IO packet), ``UPGRADE``, ``NOOP``. Events (direction
    ``"event"``): ``OPEN``, ``CLOSED``, ``REJECTED`` (a refused handshake),
    ``ERROR``, ``NOTE``, ``RECONNECTING``.
    """

    TEXT = "TEXT"
    BINARY = "BINARY"
    CONT = "CONT"
    PING = "PING"
    PONG = "PONG"
    CLOSE = "CLOSE"
    MESSAGE = "MESSAGE"
    UPGRADE = "UPGRADE"
    NOOP = "NOOP"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"
    ERROR = "ERROR"
    NOTE = "NOTE"
    RECONNECTING = "RECONNECTING"

    @property
    def is_data(self) -> bool:
        """A text or binary message, or an Engine.IO packet carrying Socket.IO."""
        return self in DATA_KINDS

    @property
    def is_control(self) -> bool:
        """A ping, pong or close."""
        return self in CONTROL_KINDS

    @property
    def is_event(self) -> bool:
        """Something that happened to a connection rather than a frame or a packet (``OPEN`` can be both)."""
        return self in EVENT_KINDS

    @property
    def frame_opcode(self) -> Opcode | None:
        """The WebSocket opcode this kind travels as (Engine.IO's ``MESSAGE``: a text frame), or ``None``."""
        return _FRAME_OPCODES.get(self)


#: Messages: what a panel's "data" rows are.
DATA_KINDS = frozenset({RecordKind.TEXT, RecordKind.BINARY, RecordKind.MESSAGE})
#: Pings, pongs and closes: a panel's "Control" filter.
CONTROL_KINDS = frozenset({RecordKind.PING, RecordKind.PONG, RecordKind.CLOSE})
#: What the log records with the direction ``"event"``.
EVENT_KINDS = frozenset(
    {RecordKind.OPEN, RecordKind.CLOSED, RecordKind.REJECTED, RecordKind.ERROR, RecordKind.NOTE,
     RecordKind.RECONNECTING}
)
_FRAME_OPCODES = {
    RecordKind.TEXT: Opcode.TEXT, RecordKind.MESSAGE: Opcode.TEXT, RecordKind.BINARY: Opcode.BINARY,
    RecordKind.CLOSE: Opcode.CLOSE, RecordKind.PING: Opcode.PING, RecordKind.PONG: Opcode.PONG,
}
