"""The traffic log every wskit server and client keeps.

A :class:`TrafficLog` holds :class:`Record` rows, one per message, control
frame or connection event, and :class:`Handshake` rows, one per opening
handshake (its request and response, as :mod:`wskit.codec.handshake` types).
Records are added on the loop thread while a cell reads them, so the log is
thread-safe; :meth:`TrafficLog.wait_for` lets a cell wait for a record
instead of sleeping, and :meth:`TrafficLog.subscribe` lets a widget follow
the traffic as it flows.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..codec.handshake import Request, Response

__all__ = ["CONTROL_OPCODES", "DATA_OPCODES", "Handshake", "Record", "TrafficLog"]

DATA_OPCODES = ("TEXT", "BINARY", "MESSAGE")  # MESSAGE: an Engine.IO packet carrying Socket.IO
CONTROL_OPCODES = ("PING", "PONG", "CLOSE")
ARROWS = {"sent": "→", "received": "←", "event": "•"}


class Record(NamedTuple):
    """One row of a traffic log.

    Attributes:
        time: seconds since the log started.
        direction: ``"sent"``, ``"received"`` or ``"event"``.
        opcode: ``TEXT``, ``BINARY``, ``PING``, ``PONG``, ``CLOSE`` for
            frames; ``OPEN``, ``CLOSED``, ``REJECTED``, ``ERROR`` for events.
        size: payload size in bytes (a fragmented message counts whole).
        data: the payload: ``str`` for text, ``bytes`` otherwise (only its
            start, for a message bigger than the log's ``max_data``).
        conn: the connection number on a server (1, 2, ...); 0 on a client.
        code: a close code, or the HTTP status of a rejected handshake.
        info: a close reason, an error's traceback, a note such as
            ``"3 frames"``.
    """

    time: float
    direction: str
    opcode: str
    size: int = 0
    data: str | bytes | None = None
    conn: int = 0
    code: int | None = None
    info: str = ""

    @property
    def is_data(self) -> bool:
        """A text or binary message."""
        return self.opcode in DATA_OPCODES

    @property
    def is_control(self) -> bool:
        """A ping, pong or close frame."""
        return self.opcode in CONTROL_OPCODES

    def preview(self, width: int = 48) -> str:
        """The payload (or event details) in one short line."""
        if self.opcode == "CLOSE" or self.direction == "event":
            lines = self.info.strip().splitlines() or [""]
            # a traceback says most in its last line; anything else in its first
            detail = lines[-1] if self.opcode == "ERROR" else lines[0]
            text = f"{'' if self.code is None else self.code} {detail}".strip()
        elif isinstance(self.data, bytes):
            text = self.data.hex(" ")
        elif self.data is not None:
            text = repr(self.data)
        else:
            text = ""
        return text if len(text) <= width else text[: width - 1] + "…"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (bytes as hex)."""
        row: dict[str, object] = self._asdict()
        if isinstance(self.data, bytes):
            row["data"] = self.data.hex()
            row["data_encoding"] = "hex"
        return row


@dataclasses.dataclass(frozen=True, slots=True)
class Handshake:
    """One opening handshake: what the client asked, what the server answered.

    Attributes:
        time: seconds since the log started, when the response was seen.
        conn: the connection number (0 on a client).
        request: the Upgrade request.
        response: the server's answer (``101`` or a refusal).
    """

    time: float
    conn: int
    request: Request
    response: Response

    @property
    def accepted(self) -> bool:
        """The server answered 101 Switching Protocols."""
        return self.response.status == 101


class TrafficLog:
    """Thread-safe, bounded log of the traffic of one server or client.

    Args:
        maxlen: records kept; older ones are dropped (and counted in
            :attr:`dropped`) so a long run cannot exhaust memory.
        max_data: payload bytes (or characters) kept per record; a record
            of a bigger message keeps its start, and its ``size`` tells the
            whole. With the defaults a log holds at most about 4 MB.
    """

    def __init__(self, maxlen: int = 10_000, max_data: int = 256) -> None:
        self.max_data = max_data
        #: What the records carry: ``"websocket"`` frames or ``"socket.io"`` Engine.IO packets.
        self.protocol = "websocket"
        self._records: deque[Record] = deque(maxlen=maxlen)
        #: The latest handshakes (as many as records are kept).
        self.handshakes: deque[Handshake] = deque(maxlen=maxlen)
        self.dropped = 0
        #: Bytes on the wire (handshake, frame headers, masks and payloads), all connections.
        self.bytes_sent = 0
        self.bytes_received = 0
        #: ``time.perf_counter()`` when the log started: record times count from here.
        self.started = time.perf_counter()
        self._cond = threading.Condition(threading.Lock())
        self._waiting = 0  # cells blocked in wait_for
        self._subscribers: list[Callable[[Record], None]] = []
        self._watchers = 0  # waiting + subscribers: one attribute for the per-frame path to test

    # -- writing (loop thread) --

    def now(self) -> float:
        """Seconds since the log started."""
        return time.perf_counter() - self.started

    def add(
        self,
        direction: str,
        opcode: str,
        size: int = 0,
        data: str | bytes | None = None,
        conn: int = 0,
        code: int | None = None,
        info: str = "",
    ) -> Record:
        """Append a record stamped with the current time; wake waiters and subscribers.

        This is on the path of every frame, so it takes no lock unless a
        cell is waiting (deque appends are atomic).
        """
        if data is not None and len(data) > self.max_data:
            data = data[: self.max_data]
        record = Record(time.perf_counter() - self.started, direction, opcode, size, data, conn, code, info)
        records = self._records
        if len(records) == records.maxlen:
            self.dropped += 1
        records.append(record)
        if self._watchers:
            self._wake(record)
        return record

    def _materialize(self, entry: Any) -> Record:
        """A :class:`Record` from a raw entry of the per-frame path (or the record itself).

        The connections append ``(clock, direction, opcode, size, payload start, conn)`` tuples for every
        whole message: the relative time, the text decoding and the copy to ``bytes`` are done here, when
        someone reads the log, not on the path of every frame.
        """
        if entry.__class__ is Record:
            return entry
        clock, direction, opcode, size, data, conn = entry
        data = bytes(data)
        if opcode == "TEXT":
            data = data.decode("utf-8", "replace")
        return Record(clock - self.started, direction, opcode, size, data, conn, None, "")

    def _update_watchers(self) -> None:
        self._watchers = self._waiting + len(self._subscribers)

    def _wake(self, record: Any) -> None:
        record = self._materialize(record)
        if self._waiting:
            with self._cond:
                self._cond.notify_all()
        for callback in list(self._subscribers):
            try:
                callback(record)
            except Exception as exc:  # a broken viewer must not break the traffic
                self.unsubscribe(callback)
                self.add("event", "ERROR", info=f"log subscriber {callback!r} failed: {exc!r}")

    def add_handshake(self, conn: int, request: Request, response: Response) -> Handshake:
        """Append a handshake."""
        handshake = Handshake(self.now(), conn, request, response)
        with self._cond:
            self.handshakes.append(handshake)
            self._cond.notify_all()
        return handshake

    # -- reading (any thread) --

    @property
    def records(self) -> list[Record]:
        """A snapshot of the records, oldest first."""
        with self._cond:
            raw = list(self._records)
        return [self._materialize(entry) for entry in raw]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, index: int) -> Record:
        return self.records[index]

    def messages(self, direction: str | None = None, conn: int | None = None) -> list[Record]:
        """The text and binary messages, optionally of one direction or connection."""
        return [
            r
            for r in self.records
            if r.is_data
            and (direction is None or r.direction == direction)
            and (conn is None or r.conn == conn)
        ]

    def wait_for(
        self,
        predicate: Callable[[Record], bool],
        timeout: float = 5.0,
    ) -> Record:
        """The first record (already logged or yet to come) matching ``predicate``.

        Raises:
            TimeoutError: none arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiting += 1  # before looking, so that no append in between goes unnoticed
            self._update_watchers()
            try:
                while True:
                    for entry in list(self._records):
                        record = self._materialize(entry)
                        if predicate(record):
                            return record
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no matching record in the traffic log within {timeout} s")
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
                self._update_watchers()

    def subscribe(self, callback: Callable[[Record], None]) -> Callable[[], None]:
        """Call ``callback(record)`` for each new record (on the loop thread).

        Returns:
            A function that unsubscribes.
        """
        with self._cond:
            self._subscribers.append(callback)
            self._update_watchers()
        return lambda: self.unsubscribe(callback)

    def unsubscribe(self, callback: Callable[[Record], None]) -> None:
        """Stop calling ``callback``."""
        with self._cond:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
            self._update_watchers()

    def clear(self) -> None:
        """Forget every record and handshake."""
        with self._cond:
            self._records.clear()
            self.handshakes.clear()
            self.dropped = 0

    def to_json(self) -> str:
        """The records as a JSON array."""
        return json.dumps([r.to_dict() for r in self.records], indent=1)

    def table(self, last: int | None = 20) -> str:
        """The last ``last`` records as a plain-text table (``None``: all)."""
        records = self.records
        if last is not None:
            records = records[-last:]
        lines = [f"{'ms':>9}  {'':1} {'conn':>4}  {'opcode':<8} {'size':>6}  data"]
        for r in records:
            conn = f"#{r.conn}" if r.conn else ""
            lines.append(
                f"{r.time * 1000:9.3f}  {ARROWS.get(r.direction, '?')} {conn:>4}  "
                f"{r.opcode:<8} {r.size:>6}  {r.preview()}"
            )
        skipped = len(self._records) - len(records) + self.dropped
        if skipped:
            lines.insert(1, f"{'':9}  ({skipped} earlier records not shown)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<TrafficLog: {len(self)} records, {len(self.handshakes)} handshakes>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython display
        printer.text(self.table())
