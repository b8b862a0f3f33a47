"""A plain TCP socket for speaking WebSocket by hand.

:class:`RawSocket` is the course's bare wire: you write the bytes of an
Upgrade request (or of a frame) yourself, and read back exactly what the
server sent. It is an ordinary blocking socket with a timeout on every read,
so a cell waits for the bytes and never hangs for ever. Everything sent and
received is kept in :attr:`RawSocket.sent` and :attr:`RawSocket.received`.
"""

from __future__ import annotations

import socket
import time
import urllib.parse

from ..codec import frames as fr
from ..codec import handshake as hs
from ..codec.handshake import Request, Response, parse_response
from . import loop as _loop
from .errors import LiveError

__all__ = ["MAX_UNTIL", "RawSocket", "RawSocketClosed", "RawSocketOverflow"]

MAX_UNTIL = 2**20
"""The most bytes :meth:`RawSocket.recv_until` (and so ``recv_head``) reads while looking for its marker: 1 MiB.

Servers bound an HTTP head the same way, and far lower (nginx: 8 KiB a header line, websockets: 8 KiB a
line and 128 headers); a peer that never sends the marker must not fill the memory.
"""


class RawSocketClosed(LiveError, OSError):
    """A read or write on a :class:`RawSocket` that was closed."""


class RawSocketOverflow(LiveError, OSError):
    """:meth:`RawSocket.recv_until` read its limit of bytes (:data:`MAX_UNTIL`) without finding the marker.

    The bytes read stay buffered (``recv_exactly`` or ``recv_all`` can still read them).

    Attributes:
        limit: the limit, in bytes.
    """

    def __init__(self, marker: bytes, limit: int, buffered: int) -> None:
        self.limit = limit
        super().__init__(
            f"no {marker!r} within the first {limit} bytes: the limit of recv_until (limit=, by default "
            f"wskit.live.raw.MAX_UNTIL = {MAX_UNTIL}); the {buffered} bytes read stay buffered"
        )


class RawSocket(_loop.LiveObject):
    """A TCP connection with no WebSocket logic at all.

    Args:
        url: ``ws://host:port/`` (a server's ``.url``) or ``(host, port)``.
        timeout: seconds each read may wait.
        name: as for servers: re-running the cell closes the old socket.

    Attributes:
        connect_time: seconds the TCP three-way handshake took.
        sent: every byte written, in order.
        received: every byte read, in order.
    """

    kind = "raw"

    def __init__(
        self,
        url: str | tuple[str, int],
        *,
        timeout: float = 5.0,
        name: str | None = None,
    ) -> None:
        if isinstance(url, str):
            parsed = urllib.parse.urlsplit(url)
            if not parsed.hostname or not parsed.port:
                raise ValueError(f"expected a URL with a host and port, e.g. srv.url; got {url!r}")
            address = (parsed.hostname, parsed.port)
        else:
            address = url
        self.address = address
        self.timeout = timeout
        self.sent = bytearray()
        self.received = bytearray()
        self._buffer = bytearray()
        self.sock: socket.socket | None = None
        self._go_live(name, self._connect)

    def _connect(self) -> None:  # a blocking socket on the cell's thread: its timeout bounds the connect
        started = time.perf_counter()
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.connect_time = time.perf_counter() - started

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise RawSocketClosed("this RawSocket is closed; open a new one: raw = wskit.RawSocket(url)")
        return self.sock

    def send(self, data: bytes) -> int:
        """Write all of ``data``; return how many bytes that was."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a raw socket carries bytes; encode text first (got {type(data).__name__})")
        self._socket().sendall(data)
        self.sent += data
        return len(data)

    def _fill(self, want: int = 65536) -> bool:
        """Read whatever the peer sent next (at most ``want`` bytes, up to 1 MiB); False at end of stream."""
        try:
            chunk = self._socket().recv(min(max(want, 65536), 2**20))
        except TimeoutError:
            raise TimeoutError(
                f"the server sent nothing more within {self.timeout} s "
                f"({len(self._buffer)} bytes waiting unread)"
            ) from None
        self.received += chunk
        self._buffer += chunk
        return bool(chunk)

    def recv_until(self, marker: bytes, *, limit: int | None = None) -> bytes:
        """Read up to and including ``marker`` (e.g. ``b"\\r\\n\\r\\n"``).

        Bytes after the marker stay buffered for the next read. Linear in the bytes read: after each read
        only the new bytes are searched, with the last ``len(marker) - 1`` old ones (a marker split
        between two reads).

        Args:
            marker: the bytes that end what to read.
            limit: the marker must end within this many bytes (default :data:`MAX_UNTIL`, 1 MiB).

        Raises:
            RawSocketOverflow: ``limit`` bytes arrived and no marker among them (they stay buffered).
            ConnectionError: the connection closed before the marker.
            TimeoutError: nothing arrived for ``timeout`` seconds.
        """
        limit = MAX_UNTIL if limit is None else limit
        start = 0  # where the marker could begin, in bytes not yet searched
        while (end := self._buffer.find(marker, start, limit)) < 0:
            if len(self._buffer) >= limit:
                raise RawSocketOverflow(marker, limit, len(self._buffer))
            start = max(start, len(self._buffer) - len(marker) + 1)
            if not self._fill():
                raise ConnectionError(
                    f"the connection closed before {marker!r} arrived; got {len(self._buffer)} bytes: "
                    f"{bytes(self._buffer[:200])!r}{'…' if len(self._buffer) > 200 else ''}"
                )
        end += len(marker)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    def recv_head(self) -> bytes:
        """Read one HTTP head, up to its blank line."""
        return self.recv_until(b"\r\n\r\n")

    def recv_exactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes."""
        while len(self._buffer) < n:
            if not self._fill():
                raise ConnectionError(
                    f"the connection closed after {len(self._buffer)} of {n} bytes"
                )
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def recv_all(self) -> bytes:
        """Read until the server closes the connection."""
        while self._fill():
            pass
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def send_request(self, request: Request | bytes) -> Response:
        """Send an HTTP request head; read and parse the server's response.

        The response's body is read too when it has a ``Content-Length``;
        after a ``101`` the bytes that follow (frames) stay buffered.
        """
        self.send(request.to_bytes() if isinstance(request, Request) else request)
        head = self.recv_head()
        response = parse_response(head)
        length = response.headers.get("Content-Length")
        if response.status != 101 and length and length.isdigit():
            response = parse_response(head + self.recv_exactly(int(length)))
        return response

    def handshake(self, path: str = "/", **options: object) -> Response:
        """Run the opening handshake by hand; afterwards the socket speaks frames.

        Args:
            path: the request target.
            options: passed to :func:`wskit.codec.handshake.build_request`
                (``key=``, ``origin=``, ``subprotocols=``, ``headers=`` ...).

        Raises:
            wskit.codec.InvalidHandshake: the server did not answer with a valid 101.
        """
        host, port = self.address
        request = hs.build_request(f"{host}:{port}", path, **options)  # type: ignore[arg-type]
        response = self.send_request(request)
        hs.check_response(response, request.key or "")
        return response

    def send_frame(self, frame: fr.Frame, *, check: bool = True) -> bytes:
        """Encode ``frame`` (masked if it has a key) and send it; return the bytes sent.

        A client must mask its frames: use ``frame.masked_with()``. Pass
        ``check=False`` to send a frame that breaks the rules on purpose.
        """
        data = fr.encode(frame, check=check)
        self.send(data)
        return data

    def recv_frame(self) -> fr.Frame:
        """Read exactly one frame (as a client would, so it must be unmasked).

        Linear in the frame's size: the header says how many bytes the frame
        needs, and they are read before the buffer is decoded again (at most
        three decodes a frame: two bytes, the header, the whole frame).
        """
        while True:
            try:
                frame, rest = fr.decode(bytes(self._buffer), require_mask=False, max_size=None)
            except fr.Incomplete as incomplete:
                target = len(self._buffer) + incomplete.needed
                while len(self._buffer) < target:
                    if not self._fill(target - len(self._buffer)):
                        raise ConnectionError(
                            f"the connection closed in the middle of a frame ({len(self._buffer)} bytes buffered)"
                        ) from None
                continue
            del self._buffer[: len(self._buffer) - len(rest)]
            return frame

    def close(self) -> None:
        """Close the socket (safe to call twice)."""
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
        _loop.unregister(self)

    stop = close

    def __repr__(self) -> str:
        host, port = self.address
        state = "open" if self.sock is not None else "closed"
        return f"<RawSocket {host}:{port} {state}, {len(self.sent)} bytes sent, {len(self.received)} received>"
