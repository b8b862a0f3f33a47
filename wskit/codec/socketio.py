"""Engine.IO and Socket.IO packets, by hand, for display (protocol v4 / v5).

Socket.IO runs on Engine.IO, which runs on HTTP long polling or WebSocket.
On a WebSocket, each text message is one Engine.IO packet: a digit for its
type, then its data. A ``MESSAGE`` packet (``4``) carries one Socket.IO
packet: its own type digit, an optional namespace, an optional ack id, then
JSON::

    0{"sid":"...","upgrades":[],"pingInterval":25000,...}   Engine.IO OPEN
    40                                                      Socket.IO CONNECT to "/"
    40{"sid":"..."}                                         ... and the server's reply
    42["chat","hi"]                                         EVENT "chat" with one argument
    421["join","lobby"]                                     EVENT with ack id 1
    431["ok"]                                               ACK 1 with its arguments
    42/admin,["stats"]                                      EVENT on the /admin namespace
    44{"message":"bad token"}                               CONNECT_ERROR
    2 / 3                                                   Engine.IO PING / PONG

Standard library only. The tests check :func:`decode_socketio` and
:func:`encode_socketio` against python-socketio's own packet code.

>>> describe('421["join","lobby"]')
'MESSAGE → EVENT "join" ["lobby"] ack 1'
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .errors import ProtocolError, UsageError

__all__ = [
    "ENGINEIO_TYPES",
    "SOCKETIO_TYPES",
    "EnginePacket",
    "SocketIOPacket",
    "decode_engineio",
    "decode_socketio",
    "encode_engineio",
    "encode_socketio",
    "describe",
    "InvalidPacket",
]

ENGINEIO_TYPES = {0: "OPEN", 1: "CLOSE", 2: "PING", 3: "PONG", 4: "MESSAGE", 5: "UPGRADE", 6: "NOOP"}
SOCKETIO_TYPES = {
    0: "CONNECT",
    1: "DISCONNECT",
    2: "EVENT",
    3: "ACK",
    4: "CONNECT_ERROR",
    5: "BINARY_EVENT",
    6: "BINARY_ACK",
}


class InvalidPacket(ProtocolError):
    """The text is not an Engine.IO / Socket.IO packet."""


@dataclasses.dataclass(frozen=True)
class SocketIOPacket:
    """One Socket.IO packet.

    Attributes:
        type: ``EVENT``, ``ACK``, ``CONNECT``, ...
        namespace: ``"/"`` unless the packet names another.
        ack_id: the acknowledgement id, if the sender wants an answer (or this answers one).
        data: the decoded JSON payload (a list for events and acks, a dict for connect).
        attachments: binary attachments that follow (binary packets only).
    """

    type: str
    namespace: str = "/"
    ack_id: int | None = None
    data: Any = None
    attachments: int = 0

    @property
    def event(self) -> str | None:
        """The event name, for an event."""
        if self.type in ("EVENT", "BINARY_EVENT") and isinstance(self.data, list) and self.data:
            return self.data[0]
        return None

    @property
    def args(self) -> list[Any]:
        """The event's arguments, or an ack's values."""
        if not isinstance(self.data, list):
            return []
        return self.data[1:] if self.event is not None else self.data


@dataclasses.dataclass(frozen=True)
class EnginePacket:
    """One Engine.IO packet: its type and data (and the Socket.IO packet inside a MESSAGE)."""

    type: str
    data: str
    socketio: SocketIOPacket | None = None


def decode_engineio(text: str) -> EnginePacket:
    """Decode one Engine.IO packet from a WebSocket text message.

    Raises:
        InvalidPacket: an empty message or an unknown type digit.
    """
    if not text or not text[0].isdigit() or int(text[0]) not in ENGINEIO_TYPES:
        raise InvalidPacket(f"not an Engine.IO packet (expected a type digit 0-6 first): {text[:40]!r}")
    kind = ENGINEIO_TYPES[int(text[0])]
    data = text[1:]
    inner = decode_socketio(data) if kind == "MESSAGE" else None
    return EnginePacket(kind, data, inner)


def decode_socketio(text: str) -> SocketIOPacket:
    """Decode one Socket.IO packet (the data of an Engine.IO MESSAGE).

    Raises:
        InvalidPacket: an unknown type digit, a bad attachment count, or data that is not JSON.
    """
    if not text or not text[0].isdigit() or int(text[0]) not in SOCKETIO_TYPES:
        raise InvalidPacket(f"not a Socket.IO packet (expected a type digit 0-6 first): {text[:40]!r}")
    kind, rest = SOCKETIO_TYPES[int(text[0])], text[1:]
    attachments = 0
    if kind in ("BINARY_EVENT", "BINARY_ACK"):
        count, dash, rest = rest.partition("-")
        if not dash or not count.isdigit():
            raise InvalidPacket(f"binary packet without '<count>-': {text[:40]!r}")
        attachments = int(count)
    namespace = "/"
    if rest.startswith("/"):
        end = rest.find(",")
        namespace, rest = (rest, "") if end < 0 else (rest[:end], rest[end + 1 :])
    digits = 0
    while digits < len(rest) and rest[digits].isdigit():
        digits += 1
    ack_id = int(rest[:digits]) if digits else None
    rest = rest[digits:]
    try:
        data = json.loads(rest) if rest else None
    except json.JSONDecodeError as exc:
        raise InvalidPacket(f"Socket.IO payload is not JSON: {exc.msg} in {rest[:40]!r}") from None
    return SocketIOPacket(kind, namespace, ack_id, data, attachments)


def encode_engineio(kind: str, data: str = "") -> str:
    """The text of one Engine.IO packet, e.g. ``encode_engineio("MESSAGE", '2["hi"]')``."""
    codes = {name: code for code, name in ENGINEIO_TYPES.items()}
    if kind not in codes:
        raise UsageError(f"unknown Engine.IO packet type {kind!r}; expected one of {list(codes)}")
    return f"{codes[kind]}{data}"


def encode_socketio(
    kind: str,
    data: Any = None,
    *,
    namespace: str = "/",
    ack_id: int | None = None,
) -> str:
    """The text of one Socket.IO packet (put it in an Engine.IO MESSAGE to send it).

    >>> encode_socketio("EVENT", ["chat", "hi"], ack_id=3)
    '23["chat","hi"]'
    """
    codes = {name: code for code, name in SOCKETIO_TYPES.items()}
    if kind not in codes or kind.startswith("BINARY"):
        raise UsageError(f"unsupported Socket.IO packet type {kind!r}; expected one of {list(codes)[:5]}")
    if kind == "EVENT" and not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise UsageError(f"an EVENT's data is a list starting with the event name, e.g. ['chat', 'hi']; got {data!r}")
    text = str(codes[kind])
    if namespace != "/":
        if not namespace.startswith("/"):
            raise UsageError(f"a namespace starts with '/': {namespace!r}")
        text += namespace + ","
    if ack_id is not None:
        text += str(ack_id)
    if data is not None:
        text += json.dumps(data, separators=(",", ":"))
    return text


def describe(text: str) -> str:
    """One line saying what an Engine.IO packet is, for people.

    Never raises: text that is not a packet is described as such.
    """
    if not text or not text[0].isdigit() or int(text[0]) not in ENGINEIO_TYPES:
        return f"not an Engine.IO packet: {text[:40]!r}"
    try:
        packet = decode_engineio(text)
    except InvalidPacket as exc:
        return f"MESSAGE with an invalid Socket.IO packet ({exc})"
    if packet.socketio is None:
        return packet.type + (f" {packet.data}" if packet.data else "")
    inner = packet.socketio
    parts = [f"{packet.type} → {inner.type}"]
    if inner.event is not None:
        parts.append(f'"{inner.event}" {json.dumps(inner.args)}')
    elif inner.data is not None:
        parts.append(json.dumps(inner.data))
    if inner.ack_id is not None:
        parts.append(f"ack {inner.ack_id}")
    if inner.namespace != "/":
        parts.append(f"on {inner.namespace}")
    return " ".join(parts)
