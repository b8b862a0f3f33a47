"""The WebSocket opening handshake (RFC 6455 §4), by hand, over bytes.

This module is *sans-I/O*: it never opens a socket. It turns arguments into
the bytes of an HTTP Upgrade request or a ``101 Switching Protocols``
response, parses such bytes back, and checks them the way a real client or
server does. The live servers in :mod:`wskit.live` use the ``websockets``
library for the real work; the tests check this module against it byte for
byte.

The two friends of the course:

* "I want to connect" is the client's ``GET`` with ``Upgrade: websocket`` and a
  random ``Sec-WebSocket-Key``;
* "Sure, let's start" is the server's ``101`` whose ``Sec-WebSocket-Accept``
  proves that it read that very key (:func:`accept_key`).

Example:
    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator

from .errors import InvalidHandshake, InvalidHTTP, UsageError

__all__ = [
    "GUID",
    "VERSION",
    "Headers",
    "Request",
    "Response",
    "accept_key",
    "build_request",
    "build_response",
    "check_request",
    "check_response",
    "explain_accept",
    "generate_key",
    "parse_request",
    "parse_response",
    "reject_response",
    "split_head",
]

#: The magic string of RFC 6455 §1.3, appended to the key before hashing.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: The only protocol version RFC 6455 defines.
VERSION = "13"

#: Limits on a handshake head, the same order as real servers use.
MAX_LINE = 8192
MAX_HEADERS = 128

CRLF = b"\r\n"


class Headers:
    """Ordered HTTP header fields; names compare case-insensitively.

    A name may appear more than once. :meth:`get` joins repeated fields with
    ``", "`` as RFC 9110 §5.3 allows for list-valued fields.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] | dict[str, str] = ()) -> None:
        if isinstance(items, dict):
            items = items.items()
        self._items: tuple[tuple[str, str], ...] = tuple(
            (str(name), str(value)) for name, value in items
        )

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name`` (repeated fields joined), or ``default``."""
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        lower = name.lower()
        return [value for key, value in self._items if key.lower() == lower]

    def tokens(self, name: str) -> list[str]:
        """The comma-separated tokens of ``name``, lower-cased and stripped."""
        value = self.get(name) or ""
        return [token.strip().lower() for token in value.split(",") if token.strip()]

    def items(self) -> tuple[tuple[str, str], ...]:
        """The ``(name, value)`` pairs, in order."""
        return self._items

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"

    def to_bytes(self) -> bytes:
        """The header lines, each ending in CRLF (no blank line)."""
        return b"".join(f"{name}: {value}".encode("latin-1") + CRLF for name, value in self)


@dataclasses.dataclass(frozen=True)
class Request:
    """An HTTP request head, such as the client's Upgrade request."""

    method: str
    target: str
    headers: Headers
    http_version: str = "HTTP/1.1"

    @property
    def key(self) -> str | None:
        """The ``Sec-WebSocket-Key`` the client sent, if any."""
        return self.headers.get("Sec-WebSocket-Key")

    def with_header(self, name: str, value: str) -> Request:
        """A copy with ``name`` set to ``value`` (replacing any, else appended)."""
        fields = list(self.headers.items())
        places = [i for i, (key, _) in enumerate(fields) if key.lower() == name.lower()]
        if places:
            fields[places[0]] = (fields[places[0]][0], value)
            fields = [f for i, f in enumerate(fields) if i not in places[1:]]
        else:
            fields.append((name, value))
        return dataclasses.replace(self, headers=Headers(fields))

    def without_header(self, name: str) -> Request:
        """A copy with every ``name`` field removed."""
        fields = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        return dataclasses.replace(self, headers=Headers(fields))

    def to_bytes(self) -> bytes:
        """The bytes on the wire: request line, headers, blank line."""
        line = f"{self.method} {self.target} {self.http_version}".encode("latin-1")
        return line + CRLF + self.headers.to_bytes() + CRLF

    def __str__(self) -> str:
        return self.to_bytes().decode("latin-1")


@dataclasses.dataclass(frozen=True)
class Response:
    """An HTTP response head (and body, for a refusal)."""

    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    http_version: str = "HTTP/1.1"

    def to_bytes(self) -> bytes:
        """The bytes on the wire: status line, headers, blank line, body."""
        line = f"{self.http_version} {self.status} {self.reason}".encode("latin-1")
        return line + CRLF + self.headers.to_bytes() + CRLF + self.body

    def __str__(self) -> str:
        return self.to_bytes().decode("latin-1")


# --- the key and the accept value ------------------------------------------


def generate_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64-encoded (24 chars)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def _check_key(key: str) -> None:
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise InvalidHandshake(
            "Sec-WebSocket-Key", "base64 of 16 random bytes (24 characters)", key
        )


def explain_accept(key: str) -> dict[str, str]:
    """Each step from ``Sec-WebSocket-Key`` to ``Sec-WebSocket-Accept``.

    Returns:
        An ordered dict: the key, the key with :data:`GUID` appended, the
        SHA-1 digest of that string in hex, and its base64 form (the accept
        value).
    """
    joined = key + GUID
    digest = hashlib.sha1(joined.encode("ascii")).digest()
    return {
        "key": key,
        "key + GUID": joined,
        "SHA-1 (hex)": digest.hex(),
        "base64 (accept)": base64.b64encode(digest).decode("ascii"),
    }


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value for ``key`` (RFC 6455 §1.3, §4.2.2).

    base64( SHA-1( key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" ) )
    """
    return explain_accept(key)["base64 (accept)"]


# --- parsing heads ----------------------------------------------------------


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Split ``data`` after the blank line that ends an HTTP head.

    Returns:
        ``(head, rest)``: the head including its final CRLF CRLF, and whatever
        bytes followed it (a body, or the first WebSocket frames).

    Raises:
        InvalidHTTP: no blank line yet (the head is incomplete).
    """
    end = data.find(CRLF + CRLF)
    if end < 0:
        raise InvalidHTTP(
            f"incomplete HTTP head: no blank line (CRLF CRLF) in {len(data)} bytes"
        )
    return data[: end + 4], data[end + 4 :]


def _parse_head(data: bytes | str, what: str) -> tuple[list[str], Headers, bytes]:
    if isinstance(data, str):
        data = data.encode("latin-1")
    head, rest = split_head(data)
    lines = head[:-4].split(CRLF)
    if len(lines) - 1 > MAX_HEADERS:
        raise InvalidHTTP(f"too many header fields: {len(lines) - 1} > {MAX_HEADERS}")
    for line in lines:
        if len(line) > MAX_LINE:
            raise InvalidHTTP(f"line too long: {len(line)} bytes > {MAX_LINE}")
    start = lines[0].decode("latin-1").split(" ", 2)
    if len(start) != 3:
        raise InvalidHTTP(f"bad {what} line: {lines[0]!r}")
    fields = []
    for raw in lines[1:]:
        line = raw.decode("latin-1")
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or line[0] in " \t":
            raise InvalidHTTP(f"bad header line: {raw!r} (expected 'Name: value')")
        fields.append((name, value.strip(" \t")))
    return start, Headers(fields), rest


def parse_request(data: bytes | str) -> Request:
    """Parse the head of an HTTP request.

    This checks only HTTP syntax; :func:`check_request` checks the handshake.

    Raises:
        InvalidHTTP: the bytes are not an HTTP/1.x request head.
    """
    (method, target, version), headers, _ = _parse_head(data, "request")
    if not version.startswith("HTTP/"):
        raise InvalidHTTP(f"bad HTTP version in request line: {version!r}")
    return Request(method, target, headers, version)


def parse_response(data: bytes | str) -> Response:
    """Parse an HTTP response head (and its body, for anything but 101).

    Raises:
        InvalidHTTP: the bytes are not an HTTP/1.x response head.
    """
    (version, status, reason), headers, rest = _parse_head(data, "status")
    if not version.startswith("HTTP/"):
        raise InvalidHTTP(f"bad HTTP version in status line: {version!r}")
    if not (status.isdigit() and len(status) == 3):
        raise InvalidHTTP(f"bad status code in status line: {status!r}")
    body = b""
    if status != "101":
        length = headers.get("Content-Length")
        body = rest[: int(length)] if length and length.isdigit() else rest
    return Response(int(status), reason, headers, body, version)


# --- the client's side ------------------------------------------------------


def _list_field(name: str, values: Iterable[str]) -> list[tuple[str, str]]:
    """``[(name, "a, b")]``: one comma-separated header field for ``values``; no field when there are none."""
    values = list(values)
    return [(name, ", ".join(values))] if values else []


def build_request(
    host: str,
    path: str = "/",
    *,
    key: str | None = None,
    version: int | str = VERSION,
    origin: str | None = None,
    subprotocols: Iterable[str] = (),
    extensions: Iterable[str] = (),
    headers: Iterable[tuple[str, str]] = (),
) -> Request:
    """Build the client's Upgrade request ("I want to connect").

    Args:
        host: the ``Host`` header, e.g. ``"127.0.0.1:8765"``.
        path: the request target.
        key: the ``Sec-WebSocket-Key``; a fresh random one by default.
        version: ``Sec-WebSocket-Version``; only ``13`` is valid, but you
            may send another to see a server refuse it.
        origin: an ``Origin`` header, as a browser sends.
        subprotocols: offered ``Sec-WebSocket-Protocol`` values.
        extensions: offered ``Sec-WebSocket-Extensions`` values.
        headers: more header fields, appended last.

    Raises:
        UsageError: ``host`` or ``path`` is empty or holds a space or CR/LF.
    """
    for name, value in (("host", host), ("path", path)):
        if not value or any(c in value for c in " \r\n"):
            raise UsageError(f"{name} must be non-empty with no spaces or CR/LF: {value!r}")
    fields = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key if key is not None else generate_key()),
        ("Sec-WebSocket-Version", str(version)),
    ]
    if origin is not None:
        fields.append(("Origin", origin))
    fields += _list_field("Sec-WebSocket-Protocol", subprotocols)
    fields += _list_field("Sec-WebSocket-Extensions", extensions)
    fields.extend(headers)
    return Request("GET", path, Headers(fields))


def check_response(
    response: Response,
    key: str,
    *,
    subprotocols: Iterable[str] = (),
    extensions: Iterable[str] = (),
) -> None:
    """Check a server's answer as a client must (RFC 6455 §4.1, the client's checks 1-6).

    The status is 101; ``Upgrade`` and ``Connection`` name the upgrade; ``Sec-WebSocket-Accept`` matches the key;
    every extension in ``Sec-WebSocket-Extensions`` is one the client offered; the subprotocol, if any, is one the
    client offered. Any other answer fails the connection.

    Args:
        response: the parsed response.
        key: the ``Sec-WebSocket-Key`` the client sent.
        subprotocols: the subprotocols the client offered.
        extensions: the extensions the client offered, as sent (``"permessage-deflate; client_max_window_bits"``)
            or by name; only the names (before the first ``;``) are compared.

    Raises:
        InvalidHandshake: names the first field that is wrong.
    """
    if response.status != 101:
        raise InvalidHandshake("status", "101 Switching Protocols", f"{response.status} {response.reason}")
    h = response.headers
    if "websocket" not in h.tokens("Upgrade"):
        raise InvalidHandshake("Upgrade", "websocket", h.get("Upgrade"))
    if "upgrade" not in h.tokens("Connection"):
        raise InvalidHandshake("Connection", "Upgrade", h.get("Connection"))
    expected = accept_key(key)
    if h.get("Sec-WebSocket-Accept") != expected:
        raise InvalidHandshake("Sec-WebSocket-Accept", expected, h.get("Sec-WebSocket-Accept"))
    offered_extensions = {_extension_name(offer) for value in extensions for offer in value.split(",")}
    for value in h.get_all("Sec-WebSocket-Extensions"):
        for accepted in value.split(","):
            if accepted.strip() and _extension_name(accepted) not in offered_extensions:
                raise InvalidHandshake("Sec-WebSocket-Extensions", f"one of {sorted(offered_extensions)}",
                                       accepted.strip())
    chosen = h.get("Sec-WebSocket-Protocol")
    offered = list(subprotocols)
    if chosen is not None and chosen not in offered:
        raise InvalidHandshake("Sec-WebSocket-Protocol", f"one of {offered}", chosen)


def _extension_name(value: str) -> str:
    """The extension's name in one element of ``Sec-WebSocket-Extensions`` (before its parameters)."""
    return value.split(";", 1)[0].strip().lower()


# --- the server's side ------------------------------------------------------


def check_request(request: Request, *, origins: Iterable[str] | None = None) -> str:
    """Check a client's Upgrade request as a server must (RFC 6455 §4.2.1).

    Args:
        request: the parsed request.
        origins: if given, the ``Origin`` values to allow (else any).

    Returns:
        The client's ``Sec-WebSocket-Key``.

    Raises:
        InvalidHandshake: names the first field that is wrong, with the
            status a server answers: 400, 403 (origin) or 426 (version).
    """
    if request.method != "GET":
        raise InvalidHandshake("method", "GET", request.method, status=405)
    if request.http_version not in ("HTTP/1.1",):
        raise InvalidHandshake("version", "HTTP/1.1", request.http_version, status=505)
    h = request.headers
    if not h.get("Host"):
        raise InvalidHandshake("Host", "the server's host and port", h.get("Host"))
    if "websocket" not in h.tokens("Upgrade"):
        raise InvalidHandshake("Upgrade", "websocket", h.get("Upgrade"), status=426)
    if "upgrade" not in h.tokens("Connection"):
        raise InvalidHandshake("Connection", "Upgrade", h.get("Connection"), status=426)
    key = h.get("Sec-WebSocket-Key")
    if key is None or len(h.get_all("Sec-WebSocket-Key")) != 1:
        raise InvalidHandshake("Sec-WebSocket-Key", "exactly one base64 16-byte nonce", key)
    _check_key(key)
    version = h.get("Sec-WebSocket-Version")
    if version is None:
        raise InvalidHandshake("Sec-WebSocket-Version", VERSION, None)
    if version != VERSION:
        raise InvalidHandshake("Sec-WebSocket-Version", VERSION, version, status=426)
    if origins is not None:
        allowed = list(origins)
        if h.get("Origin") not in allowed:
            raise InvalidHandshake("Origin", f"one of {allowed}", h.get("Origin"), status=403)
    return key


_REASONS = {
    101: "Switching Protocols",
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    426: "Upgrade Required",
    505: "HTTP Version Not Supported",
}


def build_response(
    request: Request | str,
    *,
    subprotocol: str | None = None,
    extensions: Iterable[str] = (),
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """Build the server's ``101 Switching Protocols`` ("Sure, let's start").

    Args:
        request: the client's request (it is checked first) or just its key.
        subprotocol: the one subprotocol the server picked, if any.
        extensions: accepted ``Sec-WebSocket-Extensions`` values.
        headers: more header fields, appended last.

    Raises:
        InvalidHandshake: ``request`` is not a valid Upgrade request.
    """
    if isinstance(request, Request):
        key = check_request(request)
    else:
        key = request
        _check_key(key)
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(key)),
    ]
    if subprotocol is not None:
        fields.append(("Sec-WebSocket-Protocol", subprotocol))
    fields += _list_field("Sec-WebSocket-Extensions", extensions)
    fields.extend(headers)
    return Response(101, _REASONS[101], Headers(fields))


def reject_response(error: InvalidHandshake) -> Response:
    """The response a server sends instead of 101 when a request fails a check.

    A refusal of a wrong version carries ``Sec-WebSocket-Version: 13``, as
    RFC 6455 §4.2.2 and §4.4 require, so that the client can retry with a
    version the server speaks (the RFC names 426 as one appropriate status;
    its own example in §4.4 answers 400). Every 426 also carries
    ``Upgrade: websocket``: RFC 9110 §15.5.22 says a 426 MUST say which
    protocol to upgrade to.
    """
    body = f"Failed to open a WebSocket connection: {error}.\n".encode()
    fields = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    if error.status == 426:
        fields.append(("Upgrade", "websocket"))
    if error.header == "Sec-WebSocket-Version":
        fields.append(("Sec-WebSocket-Version", VERSION))
    if error.status == 405:
        fields.append(("Allow", "GET"))
    fields.append(("Connection", "close"))
    reason = _REASONS.get(error.status, "Error")
    return Response(error.status, reason, Headers(fields), body)
