"""Errors raised by the teaching codec.

Following ``h11`` and ``wsproto``, errors come in two families:

* :class:`UsageError` — *you* misused the API (a bad argument to a builder).
* :class:`ProtocolError` — *the peer* broke the protocol (bytes that a real
  client or server would reject).

Every message names what was wrong and what was expected, so that a learner
can read the error and fix the bytes.
"""

from __future__ import annotations

__all__ = [
    "CodecError",
    "InvalidHTTP",
    "InvalidHandshake",
    "ProtocolError",
    "UsageError",
]


class CodecError(Exception):
    """Base class of every error raised by :mod:`wskit.codec`."""


class UsageError(CodecError, ValueError):
    """You called the codec with arguments it cannot turn into valid bytes."""


class ProtocolError(CodecError):
    """The bytes break RFC 6455 (or HTTP/1.1): a real peer would reject them."""


class InvalidHTTP(ProtocolError):
    """The bytes are not a well-formed HTTP/1.1 request or response head."""


class InvalidHandshake(ProtocolError):
    """An opening-handshake message is well-formed HTTP but not a valid handshake.

    Attributes:
        header: the header (or ``"method"``, ``"status"``, ``"version"``) at fault.
        expected: what RFC 6455 asks for.
        got: what the message carried (``None`` when the header is missing).
        status: the HTTP status a server answers with (400, 426, ...).
    """

    def __init__(
        self,
        header: str,
        expected: str,
        got: str | None,
        *,
        status: int = 400,
    ) -> None:
        self.header = header
        self.expected = expected
        self.got = got
        self.status = status
        if got is None:
            detail = f"missing {header}: expected {expected}"
        else:
            detail = f"bad {header}: expected {expected}, got {got!r}"
        super().__init__(detail)
