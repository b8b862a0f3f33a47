"""WebSocket frames (RFC 6455 §5), by hand, over bytes.

Once the handshake is done, everything on the connection is a frame::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               |Masking-key, if MASK set to 1  |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |
    +-------------------------------- - - - - - - - - - - - - - - - +

This module is sans-I/O and standard library only. :func:`encode` and
:func:`decode` handle all three length forms, masking, RSV bits and control
frames; :class:`Assembler` joins fragments into messages; :func:`explain`
lists every field with its bits for display. Errors come in the two families
of :mod:`wskit.codec.errors`: :class:`FrameUsageError` when *you* build an
invalid frame, :class:`InvalidFrame` (with the close code a receiver sends)
when *the peer* sent one.

Example:
    >>> encode(Frame(Opcode.TEXT, b"Hello"))
    b'\\x81\\x05Hello'
"""

from __future__ import annotations

import dataclasses
import enum
import os
import struct
from collections.abc import Iterator

from .errors import CodecError, ProtocolError, UsageError

__all__ = [
    "Opcode",
    "CloseCode",
    "Frame",
    "Field",
    "Message",
    "Assembler",
    "FrameUsageError",
    "InvalidFrame",
    "Incomplete",
    "apply_mask",
    "random_mask",
    "encode",
    "decode",
    "iter_frames",
    "close_payload",
    "parse_close",
    "explain",
    "MAX_CONTROL_PAYLOAD",
]

MAX_CONTROL_PAYLOAD = 125


class Opcode(enum.IntEnum):
    """The 4-bit opcode: what kind of frame this is."""

    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """Close, ping and pong: opcodes with the high bit set."""
        return self >= 0x8


class CloseCode(enum.IntEnum):
    """Close status codes (RFC 6455 §7.4.1, IANA registry)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


#: Codes that only describe a closure locally and never travel in a frame.
LOCAL_ONLY_CODES = frozenset({1005, 1006, 1015})


class FrameUsageError(UsageError):
    """You asked to build a frame that breaks RFC 6455 (pass ``check=False`` to send it anyway)."""


class InvalidFrame(ProtocolError):
    """The peer sent a frame that breaks RFC 6455.

    Attributes:
        code: the close code a receiver answers with (1002, 1007, 1009).
        rule: the rule that broke, in words.
    """

    def __init__(self, rule: str, code: int = CloseCode.PROTOCOL_ERROR) -> None:
        self.rule = rule
        self.code = CloseCode(code)
        super().__init__(f"{rule} (close with {self.code.value} {self.code.name})")


class Incomplete(CodecError):
    """Not a whole frame yet: read at least :attr:`needed` more bytes."""

    def __init__(self, needed: int) -> None:
        self.needed = needed
        super().__init__(f"incomplete frame: {needed} more bytes needed")


@dataclasses.dataclass(frozen=True)
class Frame:
    """One frame, exactly as on the wire (the payload unmasked).

    Attributes:
        opcode: what kind of frame.
        payload: the application bytes, unmasked.
        fin: this is the last fragment of its message.
        rsv1, rsv2, rsv3: reserved bits; only an extension may set them
            (RSV1 means "compressed" under permessage-deflate).
        mask_key: the 4-byte masking key, or ``None`` for an unmasked frame.
            Clients must mask every frame; servers never mask.
    """

    opcode: Opcode
    payload: bytes = b""
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    mask_key: bytes | None = None

    @property
    def masked(self) -> bool:
        """The frame carries a masking key."""
        return self.mask_key is not None

    @property
    def text(self) -> str:
        """The payload as UTF-8 text.

        Raises:
            InvalidFrame: it is not valid UTF-8 (close code 1007).
        """
        try:
            return self.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidFrame(f"text is not valid UTF-8: {exc.reason} at byte {exc.start}", 1007) from None

    def masked_with(self, key: bytes | None = None) -> Frame:
        """A copy masked with ``key`` (a fresh random key by default)."""
        return dataclasses.replace(self, mask_key=key if key is not None else random_mask())

    def __repr__(self) -> str:
        payload = self.payload if len(self.payload) <= 32 else self.payload[:32] + b"..."
        flags = "".join(f" {n}" for n, on in (("rsv1", self.rsv1), ("rsv2", self.rsv2), ("rsv3", self.rsv3)) if on)
        fin = "" if self.fin else " fin=False"
        mask = f" mask={self.mask_key.hex()}" if self.mask_key is not None else ""
        name = self.opcode.name if isinstance(self.opcode, Opcode) else hex(self.opcode)
        return f"Frame({name}, {payload!r}{fin}{flags}{mask}, {len(self.payload)} bytes)"


# --- masking ------------------------------------------------------------------------


def random_mask() -> bytes:
    """A fresh 4-byte masking key from a strong random source (RFC 6455 §5.3)."""
    return os.urandom(4)


def apply_mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with ``key`` repeated: ``out[i] = data[i] ^ key[i % 4]``.

    Masking and unmasking are the same operation.
    """
    if len(key) != 4:
        raise FrameUsageError(f"a masking key is 4 bytes, got {len(key)}")
    if not data:
        return b""
    # Whole-buffer XOR through big integers: fast, and still just the formula above.
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    n = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return n.to_bytes(len(data), "big")


# --- encoding -----------------------------------------------------------------------


def _check_frame(frame: Frame) -> None:
    if frame.opcode not in Opcode.__members__.values():
        raise FrameUsageError(f"opcode {frame.opcode:#x} is reserved (valid: 0, 1, 2, 8, 9, 10)")
    opcode = Opcode(frame.opcode)
    if opcode.is_control:
        if len(frame.payload) > MAX_CONTROL_PAYLOAD:
            raise FrameUsageError(
                f"a {opcode.name} frame carries at most 125 bytes, not {len(frame.payload)} (RFC 6455 §5.5)"
            )
        if not frame.fin:
            raise FrameUsageError(f"a {opcode.name} frame cannot be fragmented: fin must be True (RFC 6455 §5.5)")
    if frame.mask_key is not None and len(frame.mask_key) != 4:
        raise FrameUsageError(f"a masking key is 4 bytes, got {len(frame.mask_key)}")


def encode(frame: Frame, *, check: bool = True) -> bytes:
    """The bytes of ``frame`` on the wire, masked if it has a ``mask_key``.

    Args:
        frame: the frame.
        check: refuse frames that break RFC 6455. Pass ``False`` to build
            a bad frame on purpose (to see how a server answers it).

    Raises:
        FrameUsageError: the frame breaks a rule (and ``check`` is on).
    """
    if check:
        _check_frame(frame)
    first = (
        (0x80 if frame.fin else 0)
        | (0x40 if frame.rsv1 else 0)
        | (0x20 if frame.rsv2 else 0)
        | (0x10 if frame.rsv3 else 0)
        | (int(frame.opcode) & 0x0F)
    )
    mask_bit = 0x80 if frame.mask_key is not None else 0
    length = len(frame.payload)
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if frame.mask_key is None:
        return header + frame.payload
    return header + frame.mask_key + apply_mask(frame.payload, frame.mask_key)


# --- decoding -----------------------------------------------------------------------


def decode(
    data: bytes,
    *,
    require_mask: bool | None = None,
    max_size: int | None = None,
    allow_rsv: bool = False,
) -> tuple[Frame, bytes]:
    """Parse the frame at the start of ``data``.

    Args:
        data: bytes received; may hold more than one frame.
        require_mask: ``True`` as a server (client frames must be masked),
            ``False`` as a client (server frames must not be), ``None`` to
            accept either.
        max_size: the largest payload accepted, in bytes.
        allow_rsv: an extension was negotiated that uses the RSV bits.

    Returns:
        ``(frame, rest)``: the frame (payload unmasked) and the bytes after it.

    Raises:
        Incomplete: ``data`` ends before the frame does.
        InvalidFrame: the frame breaks a rule; ``.code`` is the close code
            to answer with.
    """
    data = bytes(data)
    if len(data) < 2:
        raise Incomplete(2 - len(data))
    first, second = data[0], data[1]
    fin, rsv = bool(first & 0x80), (bool(first & 0x40), bool(first & 0x20), bool(first & 0x10))
    raw_opcode, masked, length = first & 0x0F, bool(second & 0x80), second & 0x7F
    if any(rsv) and not allow_rsv:
        bits = ", ".join(f"RSV{i + 1}" for i, on in enumerate(rsv) if on)
        raise InvalidFrame(f"{bits} set but no extension was negotiated")
    try:
        opcode = Opcode(raw_opcode)
    except ValueError:
        raise InvalidFrame(f"opcode {raw_opcode:#x} is reserved") from None
    if opcode.is_control:
        if not fin:
            raise InvalidFrame(f"{opcode.name} frame is fragmented (control frames must have FIN set)")
        if length > MAX_CONTROL_PAYLOAD:
            raise InvalidFrame(f"{opcode.name} frame declares a payload over 125 bytes")
    if require_mask is True and not masked:
        raise InvalidFrame("a client frame is not masked (clients must mask every frame)")
    if require_mask is False and masked:
        raise InvalidFrame("a server frame is masked (servers must not mask)")
    offset = 2
    if length == 126:
        if len(data) < 4:
            raise Incomplete(4 - len(data))
        (length,) = struct.unpack_from("!H", data, 2)
        offset = 4
    elif length == 127:
        if len(data) < 10:
            raise Incomplete(10 - len(data))
        (length,) = struct.unpack_from("!Q", data, 2)
        if length >> 63:
            raise InvalidFrame("64-bit payload length has its most significant bit set")
        offset = 10
    if max_size is not None and length > max_size:
        raise InvalidFrame(f"payload of {length} bytes is over the limit of {max_size}", 1009)
    mask_key = None
    if masked:
        if len(data) < offset + 4:
            raise Incomplete(offset + 4 - len(data))
        mask_key = data[offset : offset + 4]
        offset += 4
    end = offset + length
    if len(data) < end:
        raise Incomplete(end - len(data))
    payload = data[offset:end]
    if mask_key is not None:
        payload = apply_mask(payload, mask_key)
    frame = Frame(opcode, payload, fin, *rsv, mask_key=mask_key)
    if opcode is Opcode.CLOSE:
        parse_close(payload)  # validates code and reason
    return frame, data[end:]


def iter_frames(data: bytes, **options: object) -> Iterator[Frame]:
    """Every whole frame in ``data`` (options as for :func:`decode`)."""
    while data:
        try:
            frame, data = decode(data, **options)  # type: ignore[arg-type]
        except Incomplete:
            return
        yield frame


# --- close frames -------------------------------------------------------------------


def close_payload(code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
    """The payload of a close frame: a 2-byte code, then a UTF-8 reason.

    Only codes that may travel in a frame are accepted: the defined ones except the local-only 1005, 1006 and 1015
    (so not the reserved 1004, nor 1016-2999, which are unassigned), and 3000-4999 (registered and private).
    :func:`parse_close` accepts exactly the same codes.

    Raises:
        FrameUsageError: the code may not be sent, or the payload is over 125 bytes.
    """
    if not _valid_close_code(code):  # the same rule parse_close applies to what arrives (RFC 6455 §7.4.2)
        raise FrameUsageError(f"close code {code} may not be sent in a frame")
    payload = struct.pack("!H", code) + reason.encode("utf-8")
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise FrameUsageError(f"close reason too long: {len(payload)} bytes with the code, at most 125")
    return payload


def _valid_close_code(code: int) -> bool:
    """Whether ``code`` may travel in a close frame (RFC 6455 §7.4.2, and the IANA registry for 1012-1014)."""
    if 3000 <= code < 5000:
        return True  # registered (3xxx) and private (4xxx) codes
    return code in CloseCode.__members__.values() and code not in LOCAL_ONLY_CODES


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """The code and reason of a close frame's payload (no code: ``(None, "")``).

    Raises:
        InvalidFrame: a 1-byte payload, a code that may not be sent, or a
            reason that is not UTF-8.
    """
    if not payload:
        return None, ""
    if len(payload) == 1:
        raise InvalidFrame("close payload of 1 byte (a code is 2 bytes)")
    (code,) = struct.unpack_from("!H", payload)
    if not _valid_close_code(code):
        raise InvalidFrame(f"close code {code} is not allowed on the wire")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidFrame("close reason is not valid UTF-8", 1007) from None
    return code, reason


# --- messages from fragments ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Message:
    """A whole message: one frame, or a first frame plus continuations."""

    opcode: Opcode
    data: str | bytes
    frames: int


class Assembler:
    """Join fragments into messages, checking the fragmentation rules (§5.4).

    Feed it frames in order; it returns a :class:`Message` when one is
    complete, ``None`` while a message is still open. Control frames may
    arrive between fragments and are returned as one-frame messages.

    Args:
        max_size: the largest message accepted, in bytes (→ 1009).
    """

    def __init__(self, max_size: int | None = None) -> None:
        self.max_size = max_size
        self._opcode: Opcode | None = None
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, frame: Frame) -> Message | None:
        """Take one frame.

        Raises:
            InvalidFrame: a continuation with nothing to continue (1002), a
                new message while one is open (1002), invalid UTF-8 (1007),
                or a message over ``max_size`` (1009).
        """
        if frame.opcode.is_control:
            return Message(frame.opcode, frame.payload, 1)
        if frame.opcode is Opcode.CONT:
            if self._opcode is None:
                raise InvalidFrame("continuation frame with no message to continue")
        elif self._opcode is not None:
            raise InvalidFrame(f"new {frame.opcode.name} frame while a fragmented message is still open")
        else:
            self._opcode = frame.opcode
        self._parts.append(frame.payload)
        self._size += len(frame.payload)
        if self.max_size is not None and self._size > self.max_size:
            raise InvalidFrame(f"message of over {self.max_size} bytes", 1009)
        if not frame.fin:
            return None
        opcode, payload, count = self._opcode, b"".join(self._parts), len(self._parts)
        self._opcode, self._parts, self._size = None, [], 0
        if opcode is Opcode.TEXT:
            return Message(opcode, Frame(opcode, payload).text, count)
        return Message(opcode, payload, count)


# --- explaining ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a frame, for display.

    Attributes:
        name: the field's name in RFC 6455's diagram.
        bits: its bits as a string of 0 and 1 (long fields abbreviated).
        value: its value (a number, or bytes).
        meaning: what that value means, in words.
    """

    name: str
    bits: str
    value: int | bytes
    meaning: str


def _bits(value: int, width: int) -> str:
    return format(value, f"0{width}b")


def _bytes_bits(data: bytes, limit: int = 4) -> str:
    shown = " ".join(_bits(b, 8) for b in data[:limit])
    return shown + (" …" if len(data) > limit else "")


def explain(data: bytes) -> list[Field]:
    """Every field of the frame at the start of ``data``, with its bits.

    Unlike :func:`decode` this never refuses a frame: a reserved opcode or a
    stray RSV bit is shown (and named) rather than raised.

    Raises:
        Incomplete: ``data`` ends before the frame does.
    """
    data = bytes(data)
    if len(data) < 2:
        raise Incomplete(2 - len(data))
    first, second = data[0], data[1]
    try:
        opname = Opcode(first & 0x0F).name
    except ValueError:
        opname = "reserved"
    length7 = second & 0x7F
    fields = [
        Field("FIN", _bits(first >> 7, 1), first >> 7,
              "final fragment of its message" if first & 0x80 else "more fragments follow"),
        Field("RSV1", _bits(first >> 6 & 1, 1), first >> 6 & 1,
              "set: an extension (permessage-deflate: compressed)" if first & 0x40 else "reserved, 0"),
        Field("RSV2", _bits(first >> 5 & 1, 1), first >> 5 & 1,
              "set: needs an extension" if first & 0x20 else "reserved, 0"),
        Field("RSV3", _bits(first >> 4 & 1, 1), first >> 4 & 1,
              "set: needs an extension" if first & 0x10 else "reserved, 0"),
        Field("opcode", _bits(first & 0x0F, 4), first & 0x0F, opname),
        Field("MASK", _bits(second >> 7, 1), second >> 7,
              "masked (client to server)" if second & 0x80 else "not masked (server to client)"),
    ]
    offset = 2
    if length7 == 126:
        meaning = "126: the length is in the next 16 bits"
    elif length7 == 127:
        meaning = "127: the length is in the next 64 bits"
    else:
        meaning = f"the payload is {length7} bytes"
    fields.append(Field("payload length", _bits(length7, 7), length7, meaning))
    length = length7
    for marker, size, fmt in ((126, 2, "!H"), (127, 8, "!Q")):
        if length7 == marker:
            if len(data) < offset + size:
                raise Incomplete(offset + size - len(data))
            (length,) = struct.unpack_from(fmt, data, offset)
            fields.append(Field(f"extended payload length ({size * 8} bits)",
                                _bits(length, size * 8), length, f"the payload is {length} bytes"))
            offset += size
    key = None
    if second & 0x80:
        if len(data) < offset + 4:
            raise Incomplete(offset + 4 - len(data))
        key = data[offset : offset + 4]
        fields.append(Field("masking key", _bytes_bits(key), key, f"XOR key {key.hex(' ')}"))
        offset += 4
    if len(data) < offset + length:
        raise Incomplete(offset + length - len(data))
    payload = data[offset : offset + length]
    if key is not None:
        fields.append(Field("payload (masked)", _bytes_bits(payload), payload, "as sent: unreadable until unmasked"))
        payload = apply_mask(payload, key)
    try:
        shown = repr(payload.decode("utf-8")) if opname == "TEXT" else payload.hex(" ")
    except UnicodeDecodeError:
        shown = payload.hex(" ") + " (not valid UTF-8)"
    if opname == "CLOSE" and len(payload) >= 2:
        shown = f"code {int.from_bytes(payload[:2], 'big')}, reason {payload[2:].decode('utf-8', 'replace')!r}"
    fields.append(Field("payload" if key is None else "payload (unmasked)", _bytes_bits(payload), payload, shown))
    return fields
